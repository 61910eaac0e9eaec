# %% [markdown]
# # Readmission: a first look at the real Diabetes 130-US file
#
# Class balance, missing values over time, the category shifts that drive drift, and a plain
# logistic-regression baseline. Percent-format cells (Jupytext, VS Code, PyCharm); it also
# runs as a script, which is how the real-data tests execute it:
#
#     python notebooks/readmission_eda.py [dataset_diabetes.zip or diabetic_data.csv] [figures/]
#
# Data: UCI "Diabetes 130-US Hospitals for Years 1999-2008" (CC BY 4.0), Strack et al. 2014.
# Figures only: no row of the file is printed (it is health data).

# %%
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, also when run headless
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

REPO = Path(__file__).resolve().parents[1] if "__file__" in globals() else Path.cwd()
sys.path.insert(0, str(REPO))

from services.training.features import build_preprocessor, model_pipeline  # noqa: E402
from services.training.informative import uninformative_columns  # noqa: E402
from services.training.readmission_io import load_readmission_csv  # noqa: E402
from services.training.readmission_schema import (  # noqa: E402
    CATEGORICAL_COLUMNS,
    FEATURE_COLUMNS,
    MISSING,
    TARGET_COLUMN,
    to_target,
)
from services.training.readmission_splits import split_readmission  # noqa: E402

args = [a for a in sys.argv[1:] if not a.startswith("-")]
DATA = Path(args[0]) if args else REPO.parent / "shared/data/diabetes-130-us/dataset_diabetes.zip"
FIGURES = Path(args[1]) if len(args) > 1 else REPO / "docs/images"
FIGURES.mkdir(parents=True, exist_ok=True)
frame = load_readmission_csv(DATA)  # time order = encounter_id order
y = to_target(frame[TARGET_COLUMN])
decile = np.arange(len(frame)) * 10 // len(frame)  # tenths of the time span
print(f"{len(frame)} encounters, {frame['patient_nbr'].nunique()} patients")

# %% [markdown]
# ## Class balance
# About one encounter in nine is followed by a readmission within 30 days; the rate drifts
# down slowly over the decade.

# %%
print(frame[TARGET_COLUMN].value_counts(normalize=True).round(4).to_dict())
rate_by_decile = pd.Series(y).groupby(decile).mean()
print("`<30` rate per tenth of time:", rate_by_decile.round(4).tolist())

# %% [markdown]
# ## Missing values per column, over time
# `weight` is nearly always missing; `payer_code` is missing in every one of the oldest
# encounters and appears only about a fifth of the way in, which is why a model trained on
# the oldest 20 % cannot use it (Beacon drops such a column and records it in the run).

# %%
missing = pd.DataFrame(
    {c: (frame[c].astype(str) == MISSING).groupby(decile).mean() for c in FEATURE_COLUMNS}
)
missing = missing.loc[:, missing.max() > 0.001]
print("missing share, overall:", missing.mean().round(3).sort_values().to_dict())
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), width_ratios=[1, 2])
left.plot(rate_by_decile.index + 1, rate_by_decile.to_numpy(), marker="o")
left.set_title("readmitted <30 days, per tenth of time")
left.set_xlabel("tenth of the time span")
left.set_ylim(0, 0.15)
image = right.imshow(missing.T.to_numpy(), aspect="auto", cmap="Blues", vmin=0, vmax=1)
right.set_yticks(range(missing.shape[1]), missing.columns)
right.set_xticks(range(10), [str(i + 1) for i in range(10)])
right.set_xlabel("tenth of the time span")
right.set_title("share missing (`?`)")
fig.colorbar(image, ax=right)
fig.tight_layout()
fig.savefig(FIGURES / "readmission-eda-overview.png", dpi=90)
plt.close(fig)

# %% [markdown]
# ## The category shifts that drive drift
# Jensen-Shannon distance of each categorical column between the oldest 20 % and each later
# batch (categories under 0.5 % of the oldest rows merged, as the model's encoder does). The
# diagnosis codes, specialty, discharge and admission codes move steadily: real data drifts
# even when nothing breaks.

# %%
splits = split_readmission(frame, initial_share=0.2, seed=42)
initial, batches = splits.initial, splits.future_batches(8)


def js_distance(reference: pd.Series, current: pd.Series) -> float:
    ref, cur = reference.astype(str), current.astype(str)
    shares = ref.value_counts(normalize=True)
    kept = set(shares.index[shares >= 0.005])
    ref, cur = ref.where(ref.isin(kept), "rare"), cur.where(cur.isin(kept), "rare")
    ref_share, cur_share = ref.value_counts(normalize=True), cur.value_counts(normalize=True)
    index = ref_share.index.union(cur_share.index)
    return float(
        jensenshannon(
            ref_share.reindex(index, fill_value=0), cur_share.reindex(index, fill_value=0)
        )
    )


shift = pd.DataFrame(
    {c: [js_distance(initial[c], b[c]) for b in batches] for c in CATEGORICAL_COLUMNS},
    index=range(1, len(batches) + 1),
)
top = shift.max().sort_values(ascending=False).index[:7]
print("largest Jensen-Shannon distance per column:", shift[top].max().round(3).to_dict())
fig, ax = plt.subplots(figsize=(8, 3.8))
for column in top:
    ax.plot(shift.index, shift[column], marker="o", label=column)
ax.axhline(0.1, color="grey", linestyle="--", label="0.1 (a common alarm level)")
ax.set_xlabel("later batch (time order)")
ax.set_ylabel("Jensen-Shannon distance to the oldest 20 %")
ax.legend(fontsize=8, ncol=2)
fig.tight_layout()
fig.savefig(FIGURES / "readmission-eda-shift.png", dpi=90)
plt.close(fig)

# %% [markdown]
# ## A plain logistic-regression baseline
# Trained on the oldest 20 % (70/15/15 by patient, Beacon's split), scored on its test split
# and on every later batch: the number every tuned model has to beat, and how a model that
# is never retrained ages.

# %%
dropped = uninformative_columns(splits.train)
model = model_pipeline(
    build_preprocessor(drop=dropped), LogisticRegression(C=0.1, max_iter=1000)
).fit(splits.train[FEATURE_COLUMNS], to_target(splits.train[TARGET_COLUMN]))
test_auc = roc_auc_score(
    to_target(splits.test[TARGET_COLUMN]), model.predict_proba(splits.test[FEATURE_COLUMNS])[:, 1]
)
batch_auc = [
    roc_auc_score(to_target(b[TARGET_COLUMN]), model.predict_proba(b[FEATURE_COLUMNS])[:, 1])
    for b in batches
]
print(f"left out (one value in the training window): {sorted(dropped)}")
print(f"baseline test ROC AUC {test_auc:.4f}; later batches:", np.round(batch_auc, 4).tolist())
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(range(1, len(batches) + 1), batch_auc, marker="o", label="later batches")
ax.axhline(test_auc, color="grey", linestyle="--", label=f"test split {test_auc:.3f}")
ax.set_xlabel("later batch (time order)")
ax.set_ylabel("ROC AUC")
ax.set_title("Logistic regression trained on the oldest 20 %, never retrained")
ax.legend()
fig.tight_layout()
fig.savefig(FIGURES / "readmission-eda-baseline.png", dpi=90)
plt.close(fig)

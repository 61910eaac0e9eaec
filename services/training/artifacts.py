"""Run artifacts: ROC and calibration plots, feature importances, an aggregate data profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from services.training.readmission_schema import (
    CATEGORICAL_COLUMNS,
    MISSING,
    NUMERIC_COLUMNS,
    TARGET_COLUMN,
    to_target,
)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display in jobs and containers
    import matplotlib.pyplot as plt

    return plt


def roc_plot(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, title: str) -> Path:
    """ROC curves, one per named (y_true, scores) pair, with AUC in the legend."""
    from sklearn.metrics import roc_auc_score, roc_curve

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    for label, (y, s) in curves.items():
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, label=f"{label} (AUC {roc_auc_score(y, s):.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title=title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def calibration_plot(y: np.ndarray, scores: np.ndarray, path: Path, title: str) -> Path:
    """Reliability diagram (quantile bins) with the score histogram underneath."""
    from sklearn.calibration import calibration_curve

    plt = _pyplot()
    prob_true, prob_pred = calibration_curve(y, scores, n_bins=10, strategy="quantile")
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(5, 6), gridspec_kw={"height_ratios": [3, 1]}, sharex=True
    )
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    top.plot(prob_pred, prob_true, marker="o")
    limit = float(max(prob_pred.max(), prob_true.max()) * 1.1)
    top.set(ylabel="Observed rate", title=title, xlim=(0, limit), ylim=(0, limit))
    bottom.hist(scores, bins=40)
    bottom.set(xlabel="Predicted probability", ylabel="Encounters")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def importance_files(
    names: np.ndarray, values: np.ndarray, folder: Path, top: int = 25
) -> list[Path]:
    """feature_importances.csv (all features) and .png (the `top` largest)."""
    table = (
        pd.DataFrame({"feature": names, "importance": values})
        .sort_values("importance", ascending=False)
        .reset_index(drop=True)
    )
    csv_path = folder / "feature_importances.csv"
    table.to_csv(csv_path, index=False)
    plt = _pyplot()
    head = table.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(head) + 1))
    ax.barh(head["feature"], head["importance"])
    ax.set(xlabel="Importance (share)", title="Feature importances")
    fig.tight_layout()
    png_path = folder / "feature_importances.png"
    fig.savefig(png_path, dpi=90)
    plt.close(fig)
    return [csv_path, png_path]


def data_profile(splits: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Counts, class balance and per-column statistics of each split: aggregates, no rows."""
    profile: dict[str, Any] = {}
    for name, frame in splits.items():
        entry: dict[str, Any] = {"rows": len(frame)}
        if "patient_nbr" in frame:
            entry["patients"] = int(frame["patient_nbr"].nunique())
        if TARGET_COLUMN in frame and len(frame):
            entry["readmitted_30d_rate"] = round(float(to_target(frame[TARGET_COLUMN]).mean()), 4)
        columns: dict[str, Any] = {}
        for col in NUMERIC_COLUMNS:
            values = pd.to_numeric(frame[col], errors="coerce")
            columns[col] = {
                "missing_share": round(float(values.isna().mean()), 4),
                "mean": round(float(values.mean()), 3),
                "std": round(float(values.std()), 3),
                "min": float(values.min()),
                "max": float(values.max()),
            }
        for col in CATEGORICAL_COLUMNS:
            text = frame[col].astype(str)
            counts = text[text != MISSING].value_counts(normalize=True)
            columns[col] = {
                "missing_share": round(float((text == MISSING).mean()), 4),
                "distinct": int(counts.size),
                "top_share": round(float(counts.iloc[0]), 4) if counts.size else 0.0,
            }
        entry["columns"] = columns
        profile[name] = entry
    return profile


def write_json(data: Any, path: Path) -> Path:
    """Pretty JSON file (artifacts are read by people)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    return path

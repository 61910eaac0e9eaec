"""The feature pipeline groups codes, tolerates the unexpected, and reaches an AUC floor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.metrics import roc_auc_score

from services.mlops.registry import trusted_types
from services.training.families import FAMILIES, final_estimator
from services.training.features import (
    FrequentCategoryEncoder,
    age_years,
    build_preprocessor,
    icd9_group,
    model_pipeline,
)
from services.training.readmission_schema import EXAMPLE_RECORD, FEATURE_COLUMNS, to_target
from services.training.readmission_splits import split_readmission
from services.training.readmission_synthetic import generate_readmission

# Measured on generated data (seeds 1-5 and 42, 40,000 encounters, the oldest half split
# 70/15/15 by patient): logistic regression reaches test ROC AUC 0.703-0.724. Published
# models on the real Diabetes 130-US data reach about 0.65-0.70. The floor leaves ~2
# standard errors of margin for a 3,000-row test split.
GENERATED_AUC_FLOOR = 0.67


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("428", "circulatory"),
        ("785", "circulatory"),
        ("414.01", "circulatory"),
        ("486", "respiratory"),
        ("786", "respiratory"),
        ("577", "digestive"),
        ("787", "digestive"),
        ("250", "diabetes"),
        ("250.83", "diabetes"),
        ("820", "injury"),
        ("715", "musculoskeletal"),
        ("599", "genitourinary"),
        ("788", "genitourinary"),
        ("162", "neoplasms"),
        ("276", "other"),
        ("V57", "other"),
        ("E878", "other"),
        ("?", "missing"),
        (None, "missing"),
        ("garbage", "other"),
    ],
)
def test_icd9_codes_fall_in_clinical_groups(code, group) -> None:
    assert icd9_group([code])[0] == group


def test_age_brackets_become_midpoints() -> None:
    values = age_years(["[0-10)", "[70-80)", "[90-100)", "?", None])
    assert values[:3].tolist() == [5.0, 75.0, 95.0] and np.isnan(values[3:]).all()


def test_encoder_groups_rare_and_unseen_categories() -> None:
    train = pd.DataFrame({"c": ["a"] * 60 + ["b"] * 39 + ["rare"]})
    encoder = FrequentCategoryEncoder(min_frequency=0.05).fit(train)
    assert encoder.get_feature_names_out().tolist() == ["c=a", "c=b", "c=infrequent"]
    encoded = encoder.transform(pd.DataFrame({"c": ["a", "rare", "never-seen", None]}))
    assert encoded.tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 1], [0, 0, 1]]


@pytest.fixture(scope="module")
def fitted(small_splits):
    """A logistic-regression pipeline fitted on the small training split."""
    train = small_splits.train
    model = model_pipeline(
        build_preprocessor(), final_estimator(FAMILIES["logreg"], {"C": 0.1}, 1, 1)
    )
    return model.fit(train[FEATURE_COLUMNS], to_target(train["readmitted"]))


def test_pipeline_scores_raw_records_with_unknown_and_missing_values(fitted) -> None:
    odd = dict(EXAMPLE_RECORD)
    odd.update(
        medical_specialty="Astrology",  # never seen
        payer_code=None,
        race=float("nan"),
        diag_1="V99.9",
        admission_type_id=99,
        num_lab_procedures=None,
    )
    frame = pd.DataFrame([EXAMPLE_RECORD, odd])
    scores = fitted.predict_proba(frame)[:, 1]
    assert np.isfinite(scores).all() and ((scores > 0) & (scores < 1)).all()
    # Columns in another order score the same: selection is by name.
    reordered = frame[list(reversed(FEATURE_COLUMNS))]
    assert np.allclose(fitted.predict_proba(reordered)[:, 1], scores)


def test_pipeline_survives_safe_serialisation(fitted, small_splits) -> None:
    sample = small_splits.test[FEATURE_COLUMNS].iloc[:50]
    loaded = skops.io.loads(skops.io.dumps(fitted), trusted=trusted_types(fitted))
    assert np.allclose(loaded.predict_proba(sample), fitted.predict_proba(sample))


def test_pipeline_reaches_the_documented_auc_floor_on_generated_data() -> None:
    splits = split_readmission(generate_readmission(40_000, seed=3), initial_share=0.5, seed=3)
    model = model_pipeline(
        build_preprocessor(), final_estimator(FAMILIES["logreg"], {"C": 0.1}, 3, 1)
    )
    model.fit(splits.train[FEATURE_COLUMNS], to_target(splits.train["readmitted"]))
    scores = model.predict_proba(splits.test[FEATURE_COLUMNS])[:, 1]
    auc = roc_auc_score(to_target(splits.test["readmitted"]), scores)
    assert auc >= GENERATED_AUC_FLOOR, auc

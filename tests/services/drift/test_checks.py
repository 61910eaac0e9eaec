"""Drift checks on real Evidently reports: clean batches pass, drifted ones name the columns."""

from __future__ import annotations

import numpy as np
import pytest

from services.core.errors import InputError
from services.drift.checks import check_drift
from services.drift.concept import auc_drop, calibration_in_the_large
from services.mlops.metrics import delong_auc, expected_calibration_error
from tests.services.drift.conftest import scenario_batches


def test_reference_is_the_champions_held_out_data(reference, champion):
    assert reference.version == champion.version
    assert set(reference.frame["split"]) == {"validation", "test"}
    assert 0 < (reference.frame["split"] == "test").sum() < len(reference.frame)


def test_clean_batch_passes_every_gate(drift_settings, reference):
    batch = scenario_batches(drift_settings, "none")[0]
    result = check_drift(reference, batch, drift_settings, label="clean")
    assert not result.drift_detected, result.reasons
    assert not result.retrain_recommended, result.reasons
    assert result.share_of_drifted_columns <= drift_settings.drift_column_share
    assert [g.name for g in result.gates] == ["data drift", "prediction drift", "concept drift"]
    assert result.concept["roc_auc_current"] > 0.6


def test_drifted_batch_is_flagged_on_the_drifted_columns(drift_settings, reference):
    batch = scenario_batches(drift_settings, "default")[-1]
    result = check_drift(reference, batch, drift_settings, label="drifted")
    assert result.drift_detected and result.retrain_recommended
    # Ageing, more prior visits and the diag_3 coding change; not the untouched medications.
    assert {"age", "number_inpatient", "diag_3"} <= set(result.drifted_columns)
    assert "metformin" not in result.drifted_columns
    assert result.prediction["mean_current"] > result.prediction["mean_reference"]
    concept = result.concept
    assert concept["roc_auc_current"] < concept["roc_auc_reference"] - 0.03
    summary = result.summary()
    assert summary["drift_detected"] is True
    assert summary["drifted_columns"] == result.drifted_columns
    # The scenario moves about 6 of 39 columns, under the data gate's quarter: the score and
    # concept gates catch it, and the data gate still names the columns that moved.
    assert any(reason.startswith("prediction drift") for reason in summary["reasons"])
    data_gate = next(g for g in result.gates if g.name == "data drift")
    assert "diag_3" in data_gate.summary and "age" in data_gate.summary


def test_unlabelled_batch_has_no_concept_gate(drift_settings, reference):
    batch = scenario_batches(drift_settings, "none")[1].drop(columns=["readmitted"])
    result = check_drift(reference, batch, drift_settings, label="unlabelled")
    assert result.concept is None
    assert [g.name for g in result.gates] == ["data drift", "prediction drift"]


def test_too_few_rows_and_missing_columns_are_input_errors(drift_settings, reference):
    batch = scenario_batches(drift_settings, "none")[0]
    with pytest.raises(InputError, match="fewer than BEACON_DRIFT_MIN_ROWS"):
        check_drift(reference, batch.head(50), drift_settings, label="tiny")
    with pytest.raises(InputError, match="missing feature column"):
        check_drift(reference, batch.drop(columns=["age"]), drift_settings, label="no-age")


def test_calibration_error_and_auc_noise_behave():
    rng = np.random.default_rng(0)
    p = rng.random(20_000)
    y = (rng.random(20_000) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.02  # calibrated by construction
    assert expected_calibration_error(y, np.clip(p + 0.2, 0, 1)) > 0.15
    # DeLong's AUC equals scikit-learn's; more rows, less noise (about 0.02 on 1,000 rows).
    from sklearn.metrics import roc_auc_score

    auc, variance = delong_auc(y[:1000], p[:1000])
    assert auc == pytest.approx(roc_auc_score(y[:1000], p[:1000]))
    assert 0.01 < variance**0.5 < 0.03
    assert delong_auc(y, p)[1] ** 0.5 < variance**0.5 / 3


def test_concept_statistics_tell_a_real_drop_from_noise():
    rng = np.random.default_rng(1)
    n = 10_000
    signal = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(signal - 2.2)))).astype(int)  # ~12 % positive
    good = signal + rng.normal(scale=0.9, size=n)
    same = auc_drop(y[:5000], good[:5000], y[5000:], good[5000:], 0.99)
    assert same["roc_auc_drop_lower_bound"] < 0  # the same model on two halves: chance only
    worse = signal + rng.normal(scale=1.6, size=n)
    dropped = auc_drop(y[:5000], good[:5000], y[5000:], worse[5000:], 0.99)
    assert dropped["roc_auc_drop"] > 0.03 and dropped["roc_auc_drop_lower_bound"] > 0
    # Scores 3 points above the observed rate on 10,000 rows: far beyond chance.
    rate = y.mean()
    off = calibration_in_the_large(y, np.full(n, rate + 0.03))
    assert off["calibration_gap"] == pytest.approx(0.03, abs=1e-6) and off["calibration_z"] > 5
    fair = calibration_in_the_large(y, np.full(n, rate))
    assert abs(fair["calibration_z"]) < 1e-6

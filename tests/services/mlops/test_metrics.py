"""One copy of the classification and calibration formulas, with the binning pinned."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from services.mlops.metrics import auc_interval, classification_metrics, expected_calibration_error

Y = np.array([0, 0, 1, 1])
SCORES = np.array([0.1, 0.2, 0.3, 0.4])


def test_ece_uses_equal_count_bins_labels_first():
    # Equal-count halves: {0.1, 0.2} observed 0 vs mean 0.15, {0.3, 0.4} observed 1 vs 0.35
    # -> (2 * 0.15 + 2 * 0.65) / 4 = 0.4. Equal-width halves of [0, 1] would put all four
    # scores in [0, 0.5): |0.5 - 0.25| = 0.25, so this pins the binning that won.
    assert expected_calibration_error(Y, SCORES, bins=2) == pytest.approx(0.4)
    # Labels first: halves {0.1, 0.2} -> |0.5 - 0.15|, {0.3, 0.4} -> |0 - 0.35|: 0.35. Called
    # scores-first (the old match_training order) the same arrays give 0.25.
    y = np.array([1, 0, 0, 0])
    assert expected_calibration_error(y, SCORES, bins=2) == pytest.approx(0.35)
    assert expected_calibration_error(SCORES, y, bins=2) == pytest.approx(0.25)


def test_ece_is_zero_for_a_perfectly_calibrated_score_and_grows_with_a_shift():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, 50_000)
    y = (rng.uniform(0, 1, p.size) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.02
    assert expected_calibration_error(y, np.clip(p + 0.2, 0, 1)) > 0.15


def test_ece_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="same length"):
        expected_calibration_error(Y, SCORES[:3])
    with pytest.raises(ValueError, match="empty"):
        expected_calibration_error(np.array([]), np.array([]))
    with pytest.raises(ValueError, match="bins"):
        expected_calibration_error(Y, SCORES, bins=0)


def test_classification_metrics_prefix_and_values():
    m = classification_metrics(Y, SCORES, prefix="test_")
    assert set(m) == {"test_roc_auc", "test_pr_auc", "test_brier", "test_ece"}
    assert m["test_roc_auc"] == 1.0
    assert m["test_brier"] == pytest.approx(np.mean((SCORES - Y) ** 2))
    with pytest.raises(ValueError, match="both classes"):
        classification_metrics(np.zeros(4), SCORES)


def test_auc_interval_covers_the_population_auc_at_its_confidence():
    # A population of 200,000 scored rows with ~11 % positives stands for the model's true
    # ROC AUC; 300 test splits of 3,000 rows each should cover it about 95 % of the time.
    rng = np.random.default_rng(7)
    signal = rng.normal(size=200_000)
    y = (rng.random(signal.size) < 1 / (1 + np.exp(-(0.9 * signal - 2.4)))).astype(int)
    scores = signal + rng.normal(scale=0.5, size=signal.size)
    truth = roc_auc_score(y, scores)
    covered, widths = 0, []
    for _ in range(300):
        pick = rng.choice(signal.size, 3_000, replace=False)
        low, high = auc_interval(y[pick], scores[pick])
        covered += low <= truth <= high
        widths.append(high - low)
    assert 0.92 <= covered / 300 <= 0.98  # 0.953 here; a one-sided z (1.645) gives 0.91
    assert 0.03 < float(np.mean(widths)) < 0.08  # about +-0.03 at this size, as documented
    narrow = auc_interval(y[:3_000], scores[:3_000], confidence=0.5)
    wide = auc_interval(y[:3_000], scores[:3_000], confidence=0.99)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]

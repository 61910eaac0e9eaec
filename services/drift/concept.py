"""Concept-drift statistics: the ROC AUC drop (DeLong) and calibration in the large."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from services.mlops.metrics import delong_auc


def auc_drop(
    y_ref: np.ndarray, p_ref: np.ndarray, y_cur: np.ndarray, p_cur: np.ndarray, confidence: float
) -> dict[str, float]:
    """The drop of ROC AUC from reference to current rows and its one-sided lower bound.

    The two samples are independent (held-out rows vs a later batch), so the variances add.
    A lower bound above zero means the model really ranks worse now, not by chance.
    """
    auc_ref, var_ref = delong_auc(y_ref, p_ref)
    auc_cur, var_cur = delong_auc(y_cur, p_cur)
    se = math.sqrt(var_ref + var_cur)
    drop = auc_ref - auc_cur
    return {
        "roc_auc_reference": round(auc_ref, 6),
        "roc_auc_current": round(auc_cur, 6),
        "roc_auc_drop": round(drop, 6),
        "roc_auc_drop_standard_error": round(se, 6),
        "roc_auc_drop_lower_bound": round(drop - float(norm.ppf(confidence)) * se, 6),
    }


def calibration_in_the_large(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Mean score vs observed rate, and the z statistic of their gap.

    If the scores were right, the count of positives would have mean sum(p) and variance
    sum(p(1 - p)) (a sum of independent Bernoulli trials): z measures the gap in those units.
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    expected, observed = float(p.sum()), float(y.sum())
    sd = math.sqrt(max(float(np.sum(p * (1 - p))), 1e-12))
    return {
        "mean_score": round(expected / len(p), 6),
        "observed_rate": round(observed / len(y), 6),
        "calibration_gap": round((expected - observed) / len(p), 6),
        "calibration_z": round((expected - observed) / sd, 4),
    }

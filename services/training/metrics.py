"""Classification metrics and the decision threshold chosen on validation data."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
)


def classification_metrics(y_true: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """ROC AUC, PR AUC (average precision) and Brier score of predicted probabilities."""
    y_true = np.asarray(y_true)
    if len(np.unique(y_true)) < 2:
        raise ValueError("metrics need both classes in the evaluation data")
    return {
        "roc_auc": float(roc_auc_score(y_true, scores)),
        "pr_auc": float(average_precision_score(y_true, scores)),
        "brier": float(brier_score_loss(y_true, scores)),
    }


def best_f1_threshold(y_true: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximising F1 on these scores; predict positive when score >= threshold.

    F1 rather than accuracy: with ~11 % positives, accuracy is maximised by never flagging
    anyone, which is useless for a readmission follow-up list.
    """
    precision, recall, thresholds = precision_recall_curve(y_true, scores)
    # The last precision/recall pair has no threshold.
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    best = int(np.argmax(f1))
    return float(thresholds[best]), float(f1[best])


def f1_at(y_true: np.ndarray, scores: np.ndarray, threshold: float) -> float:
    """F1 of the labels `scores >= threshold`."""
    predicted = np.asarray(scores) >= threshold
    truth = np.asarray(y_true).astype(bool)
    tp = float(np.sum(predicted & truth))
    denominator = float(predicted.sum() + truth.sum())
    return 2 * tp / denominator if denominator else 0.0

"""One drift check: data drift, prediction drift and (with labels) concept drift, as gates."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from services.core.errors import InputError
from services.drift.concept import auc_drop, calibration_in_the_large
from services.drift.reference import Reference
from services.drift.settings import DriftSettings
from services.mlops.gates import Check, GateResult
from services.mlops.metrics import expected_calibration_error
from services.training.features import dropped_columns
from services.training.readmission_schema import (
    CATEGORICAL_COLUMNS,
    FEATURE_COLUMNS,
    NUMERIC_COLUMNS,
    TARGET_COLUMN,
    to_target,
)

PREDICTION = "prediction"
TARGET = "target"
CALIBRATION_BINS = 10
CONCEPT_GATE = "concept drift"
#: Categories rarer than this in the reference are compared as one bucket, as the model's
#: encoder sees them (features.build_preprocessor): with hundreds of sparse ICD-9 codes, a
#: distance between two samples is otherwise mostly sampling noise, not drift.
RARE_CATEGORY_SHARE = 0.005
RARE = "(rare or new)"


@dataclass
class DriftResult:
    """Everything one check found; `summary()` is the JSON the pipelines read."""

    label: str
    model_name: str
    model_version: str
    rows_reference: int
    rows_current: int
    column_scores: dict[str, dict[str, Any]]
    prediction: dict[str, Any]
    concept: dict[str, float] | None
    gates: list[GateResult] = field(default_factory=list)
    snapshot: Any = field(default=None, repr=False)  # the Evidently snapshot, for the HTML
    #: Fingerprint of what the check compared (outputs.check_inputs); a rerun that finds the
    #: same fingerprint in the written summary reuses the check instead of repeating it.
    inputs: str = ""

    @property
    def drifted_columns(self) -> list[str]:
        """Feature columns whose per-column drift test failed."""
        return sorted(c for c, s in self.column_scores.items() if s["drifted"])

    @property
    def share_of_drifted_columns(self) -> float:
        """Drifted columns over checked columns."""
        return len(self.drifted_columns) / max(len(self.column_scores), 1)

    @property
    def drift_detected(self) -> bool:
        """True when the data or the predictions drifted past their thresholds."""
        return any(not g.passed for g in self.gates if g.name != CONCEPT_GATE)

    @property
    def retrain_recommended(self) -> bool:
        """True when any gate failed: drifted inputs or predictions, or a worse model."""
        return any(not g.passed for g in self.gates)

    @property
    def reasons(self) -> list[str]:
        """One line per failed gate."""
        return [f"{g.name}: {g.summary}" for g in self.gates if not g.passed]

    def summary(self) -> dict[str, Any]:
        """The JSON-ready summary (no rows, no raw values: only scores and counts)."""
        return {
            "label": self.label,
            "model": {"name": self.model_name, "version": self.model_version},
            "rows": {"reference": self.rows_reference, "current": self.rows_current},
            "drift_detected": self.drift_detected,
            "retrain_recommended": self.retrain_recommended,
            "share_of_drifted_columns": round(self.share_of_drifted_columns, 6),
            "drifted_columns": self.drifted_columns,
            "column_scores": self.column_scores,
            "prediction_drift": self.prediction,
            "concept_drift": self.concept,
            "gates": [
                {"name": g.name, "passed": g.passed, "summary": g.summary} for g in self.gates
            ],
            "reasons": self.reasons,
        } | ({"inputs": self.inputs} if self.inputs else {})

    @classmethod
    def from_summary(cls, summary: dict[str, Any]) -> DriftResult:
        """The result a written summary describes (gates without their single checks)."""
        gates = [GateResult(g["name"], g["passed"], [], g["summary"]) for g in summary["gates"]]
        return cls(
            label=summary["label"],
            model_name=summary["model"]["name"],
            model_version=summary["model"]["version"],
            rows_reference=summary["rows"]["reference"],
            rows_current=summary["rows"]["current"],
            column_scores=summary["column_scores"],
            prediction=summary["prediction_drift"],
            concept=summary["concept_drift"],
            gates=gates,
            inputs=summary.get("inputs", ""),
        )


def check_drift(
    reference: Reference,
    current: pd.DataFrame,
    settings: DriftSettings,
    *,
    label: str,
    current_scores: np.ndarray | None = None,
) -> DriftResult:
    """Compare `current` (raw columns; `readmitted` optional) with the model's reference.

    Scores come from the reference model unless `current_scores` are given (live traffic
    logs the scores it served). Labels, when present, add the concept-drift gate.
    """
    if len(current) < settings.drift_min_rows:
        raise InputError(
            f"{label}: {len(current)} rows, fewer than BEACON_DRIFT_MIN_ROWS="
            f"{settings.drift_min_rows}; a drift check needs more data"
        )
    missing = [c for c in FEATURE_COLUMNS if c not in current.columns]
    if missing:
        raise InputError(f"{label}: missing feature column(s): {', '.join(missing[:5])}")
    ref = reference.frame
    ref_scores = reference.scores
    if current_scores is None:
        current_scores = reference.model.predict_proba(current[FEATURE_COLUMNS])[:, 1]
    labelled = TARGET_COLUMN in current.columns and current[TARGET_COLUMN].notna().all()

    # Columns the model leaves out (one value in its training window) cannot move its scores.
    columns = [c for c in FEATURE_COLUMNS if c not in dropped_columns(reference.model)]
    ref_frame = _frame(ref, ref_scores, with_target=True)
    cur_frame = _frame(current, current_scores, with_target=labelled)
    ref_frame, cur_frame = _merge_rare(ref_frame, cur_frame, columns)
    snapshot, values, tests = _evidently(ref_frame, cur_frame, settings, labelled, columns)

    column_scores = _column_scores(values, tests, columns)
    prediction = _prediction_drift(values, ref_scores, np.asarray(current_scores), settings)
    concept = None
    if labelled:
        # All held-out rows, not just the test split: twice the rows halves the noise that
        # the drop is measured against, and validation rows never trained the model.
        concept = _concept(
            to_target(ref[TARGET_COLUMN]),
            ref_scores,
            to_target(current[TARGET_COLUMN]),
            np.asarray(current_scores),
            settings,
        )
    result = DriftResult(
        label=label,
        model_name=reference.model_name,
        model_version=reference.version,
        rows_reference=len(ref),
        rows_current=len(current),
        column_scores=column_scores,
        prediction=prediction,
        concept=concept,
        snapshot=snapshot,
    )
    result.gates = _gates(result, settings)
    return result


def _column_scores(
    values: dict[tuple[str, str], dict[str, Any]], tests: dict[str, str], columns: list[str]
) -> dict[str, dict[str, Any]]:
    """Per feature column: Evidently's drift score, its method and threshold, and the verdict."""
    return {
        column: {
            "score": round(float(values[("ValueDrift", column)]["value"]), 6),
            "method": values[("ValueDrift", column)]["method"],
            "threshold": values[("ValueDrift", column)]["threshold"],
            "drifted": tests.get(column) == "FAIL",
        }
        for column in columns
        if ("ValueDrift", column) in values
    }


def _prediction_drift(
    values: dict[tuple[str, str], dict[str, Any]],
    ref_scores: np.ndarray,
    current_scores: np.ndarray,
    settings: DriftSettings,
) -> dict[str, Any]:
    """The model's score distribution, reference against current, with its own threshold."""
    score = float(values[("ValueDrift", PREDICTION)]["value"])
    return {
        "score": round(score, 6),
        "method": values[("ValueDrift", PREDICTION)]["method"],
        "threshold": settings.drift_prediction_threshold,
        "drifted": score > settings.drift_prediction_threshold,
        "mean_reference": round(float(ref_scores.mean()), 6),
        "mean_current": round(float(np.mean(current_scores)), 6),
    }


def _frame(raw: pd.DataFrame, scores: np.ndarray, *, with_target: bool) -> pd.DataFrame:
    frame = raw[FEATURE_COLUMNS].copy()
    frame[PREDICTION] = np.asarray(scores, dtype=float)
    if with_target:
        frame[TARGET] = to_target(raw[TARGET_COLUMN])
    return frame


def _merge_rare(
    ref: pd.DataFrame, cur: pd.DataFrame, columns: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Categories under RARE_CATEGORY_SHARE of the reference, or unseen there, as one bucket.

    A flood of new codes (a coding change) still shows: the bucket grows.
    """
    ref, cur = ref.copy(), cur.copy()
    for column in columns:
        if column not in CATEGORICAL_COLUMNS:
            continue
        ref_text, cur_text = ref[column].astype(str), cur[column].astype(str)
        shares = ref_text.value_counts(normalize=True)
        kept = set(shares.index[shares >= RARE_CATEGORY_SHARE])
        ref[column] = ref_text.where(ref_text.isin(kept), RARE)
        cur[column] = cur_text.where(cur_text.isin(kept), RARE)
    return ref, cur


def _evidently(
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    settings: DriftSettings,
    labelled: bool,
    columns: list[str],
) -> tuple[Any, dict[tuple[str, str], dict[str, Any]], dict[str, str]]:
    """Run the data-drift preset plus score drift (and the classification preset).

    Per-column tests are effect sizes with fixed methods (Jensen-Shannon distance for
    categories, normed Wasserstein distance for numbers): Evidently's defaults switch to
    p-value tests below 1,000 rows, and p-values flag trivial shifts in large batches.
    """
    from evidently import BinaryClassification, DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import ClassificationPreset, DataDriftPreset

    metrics: list[Any] = [
        DataDriftPreset(
            columns=columns,
            drift_share=settings.drift_column_share,
            cat_method="jensenshannon",
            cat_threshold=settings.drift_categorical_threshold,
            num_method="wasserstein",
            num_threshold=settings.drift_numeric_threshold,
        ),
        ValueDrift(
            column=PREDICTION, method="wasserstein", threshold=settings.drift_prediction_threshold
        ),
    ]
    classification = []
    if labelled:
        metrics.append(ClassificationPreset())
        classification = [BinaryClassification(target=TARGET, prediction_probas=PREDICTION)]
    else:
        ref = ref.drop(columns=[TARGET])
    definition = DataDefinition(
        numerical_columns=[*(c for c in NUMERIC_COLUMNS if c in columns), PREDICTION],
        categorical_columns=[
            *(c for c in CATEGORICAL_COLUMNS if c in columns),
            *([TARGET] if labelled else []),
        ],
        classification=classification or None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy/numpy warnings on near-constant columns
        snapshot = Report(metrics, include_tests=True).run(
            current_data=Dataset.from_pandas(cur, data_definition=definition),
            reference_data=Dataset.from_pandas(ref, data_definition=definition),
        )
    values, tests = _read_snapshot(snapshot.dict())
    return snapshot, values, tests


def _read_snapshot(
    result: dict[str, Any],
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, str]]:
    """Each ValueDrift metric's value, method and threshold; each column's drift test status."""
    values: dict[tuple[str, str], dict[str, Any]] = {}
    for metric in result["metrics"]:
        config = metric["config"]
        kind = config["type"].rsplit(":", 1)[-1]
        if kind == "ValueDrift":
            values[(kind, config["column"])] = {
                "value": metric["value"],
                "method": config.get("method"),
                "threshold": config.get("threshold"),
            }
    tests = {
        test["metric_config"]["params"]["column"]: str(getattr(test["status"], "value", ""))
        for test in result.get("tests", [])
        if test.get("id") == "drift" and "column" in test["metric_config"]["params"]
    }
    return values, tests


def _concept(
    y_ref: np.ndarray,
    p_ref: np.ndarray,
    y_cur: np.ndarray,
    p_cur: np.ndarray,
    settings: DriftSettings,
) -> dict[str, float]:
    if len(np.unique(y_cur)) < 2:
        raise InputError("the batch's `readmitted` column has one class only: no ROC AUC")
    return {
        **auc_drop(y_ref, p_ref, y_cur, p_cur, settings.drift_concept_confidence),
        **calibration_in_the_large(y_cur, p_cur),
        "calibration_error_reference": round(expected_calibration_error(y_ref, p_ref), 6),
        "calibration_error_current": round(expected_calibration_error(y_cur, p_cur), 6),
        "positive_rate_reference": round(float(np.mean(y_ref)), 6),
        "positive_rate_current": round(float(np.mean(y_cur)), 6),
    }


def _gates(result: DriftResult, settings: DriftSettings) -> list[GateResult]:
    share, limit = result.share_of_drifted_columns, settings.drift_column_share
    data_passed = share <= limit
    drifted = ", ".join(result.drifted_columns)
    data_gate = GateResult(
        "data drift",
        data_passed,
        [
            Check(
                f"drift: {column}",
                not score["drifted"],
                f"{score['method']} {score['score']:.4f} (threshold {score['threshold']})",
            )
            for column, score in result.column_scores.items()
        ],
        f"{len(result.drifted_columns)} of {len(result.column_scores)} columns drifted "
        f"({share:.1%}, limit {limit:.1%})" + (f": {drifted}" if drifted else ""),
    )
    pred = result.prediction
    prediction_gate = GateResult(
        "prediction drift",
        not pred["drifted"],
        [],
        f"score distance {pred['score']:.4f} (threshold {pred['threshold']}); mean score "
        f"{pred['mean_reference']:.4f} -> {pred['mean_current']:.4f}",
    )
    gates = [data_gate, prediction_gate]
    if result.concept is not None:
        gates.append(_concept_gate(result.concept, settings))
    return gates


def _concept_gate(c: dict[str, float], settings: DriftSettings) -> GateResult:
    """A ROC AUC drop, or a calibration gap, that is both material and beyond chance.

    Each needs its size *and* its evidence: large batches do not alarm on trivia, small
    ones do not alarm on noise.
    """
    z = float(norm.ppf(1 - (1 - settings.drift_concept_confidence) / 2))
    auc_fails = c["roc_auc_drop"] >= settings.drift_auc_drop and c["roc_auc_drop_lower_bound"] > 0
    gap = c["calibration_gap"]
    calibration_fails = abs(gap) >= settings.drift_calibration_gap and abs(c["calibration_z"]) > z
    level = f"{settings.drift_concept_confidence:.0%}"
    checks = [
        Check(
            "ROC AUC",
            not auc_fails,
            f"{c['roc_auc_reference']:.4f} -> {c['roc_auc_current']:.4f} (drop "
            f"{c['roc_auc_drop']:+.4f}, {level} lower bound {c['roc_auc_drop_lower_bound']:+.4f}"
            f"; fails at a drop >= {settings.drift_auc_drop} with lower bound > 0)",
        ),
        Check(
            "calibration in the large",
            not calibration_fails,
            f"mean score {c['mean_score']:.4f} vs observed rate {c['observed_rate']:.4f} "
            f"(gap {gap:+.4f}, z {c['calibration_z']:+.1f}; fails at |gap| >= "
            f"{settings.drift_calibration_gap} with |z| > {z:.2f})",
        ),
    ]
    return GateResult(
        CONCEPT_GATE,
        all(check.passed for check in checks),
        checks,
        "; ".join(f"{check.name} {check.detail}" for check in checks),
    )

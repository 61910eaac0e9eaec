"""Promotion gates: data validation (Evidently), performance floor, champion vs challenger."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from services.training.readmission_schema import (
    CATEGORICAL_COLUMNS,
    COLUMN_SPECS,
    FEATURE_COLUMNS,
    MISSING,
    NUMERIC_COLUMNS,
    TARGET_COLUMN,
)

if TYPE_CHECKING:
    from services.core.settings import CoreSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    """One named check with its outcome and a one-line explanation."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class GateResult:
    """A gate's verdict: passed only when every check passed."""

    name: str
    passed: bool
    checks: list[Check] = field(default_factory=list)
    summary: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # numbers the caller may reuse

    def report(self, verbose: bool = False) -> str:
        """Readable report: verdict line, then failed checks (every check when verbose)."""
        verdict = "PASS" if self.passed else "FAIL"
        lines = [f"[{verdict}] {self.name}: {self.summary}"]
        for check in self.checks:
            if verbose or not check.passed:
                mark = "ok  " if check.passed else "FAIL"
                lines.append(f"    {mark} {check.name}: {check.detail}")
        hidden = sum(1 for c in self.checks if c.passed) if not verbose else 0
        if hidden:
            lines.append(f"    ({hidden} passing check(s) not shown)")
        return "\n".join(lines)


def _gate(name: str, checks: list[Check], summary: str, **values: Any) -> GateResult:
    return GateResult(name, all(c.passed for c in checks), checks, summary, values)


# --- data validation -----------------------------------------------------------------------


def validate_data(
    current: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    *,
    max_missing_increase: float = 0.05,
    drift_share: float = 0.5,
    require_target: bool = False,
    ignore: list[str] | None = None,
) -> GateResult:
    """Schema, missing share per column, value ranges and vocabularies, drift vs `reference`.

    Columns in `ignore` are not features of the model (uninformative in its training window,
    see informative.py): they must be present, but their values are not checked.

    Missing share: with a reference, a column may be missing in at most its reference share
    plus `max_missing_increase`; without one, columns that are never missing may be missing
    in at most `max_missing_increase` of rows, and no column may be missing entirely. Drift
    is Evidently's per-column test; the gate fails when more than `drift_share` of the
    feature columns drifted.
    """
    checks: list[Check] = []
    expected = FEATURE_COLUMNS + ([TARGET_COLUMN] if require_target else [])
    absent = [c for c in expected if c not in current.columns]
    checks.append(
        Check(
            "schema: columns",
            not absent,
            f"missing: {', '.join(absent)}" if absent else f"all {len(expected)} columns present",
        )
    )
    if len(current) == 0:
        checks.append(Check("rows", False, "the batch is empty"))
        return _gate("data validation", checks, "empty batch")
    skipped = set(ignore or ())
    present = [c for c in FEATURE_COLUMNS if c in current.columns and c not in skipped]
    cur, type_checks = _typed(current, present)
    checks += type_checks
    if require_target and TARGET_COLUMN in current.columns:
        bad = ~current[TARGET_COLUMN].astype(str).isin(COLUMN_SPECS[TARGET_COLUMN].values)
        checks.append(
            Check(
                f"schema: {TARGET_COLUMN}",
                not bad.any(),
                f"{int(bad.sum())} value(s) outside NO, >30, <30" if bad.any() else "valid",
            )
        )
    ref = None
    if reference is not None:
        ref, _ = _typed(reference, [c for c in present if c in reference.columns])
    checks += _evidently_checks(cur, ref, present, max_missing_increase, drift_share)
    failed = [c for c in checks if not c.passed]
    summary = (
        f"{len(current)} rows, {len(checks)} checks, all passed"
        if not failed
        else f"{len(current)} rows, {len(failed)} of {len(checks)} checks failed"
    )
    if skipped:
        summary += f"; not features, not checked: {', '.join(sorted(skipped))}"
    return _gate("data validation", checks, summary)


def _typed(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, list[Check]]:
    """Evidently-ready copy: `?` as NaN, numbers as floats; one check per unparseable column."""
    out = pd.DataFrame(index=frame.index)
    checks = []
    for col in columns:
        raw = frame[col]
        text = raw.astype(object).where(raw.notna(), MISSING).astype(str).str.strip()
        missing = text.isin([MISSING, ""])
        if COLUMN_SPECS[col].dtype is int:
            values = pd.to_numeric(text.where(~missing), errors="coerce")
            bad = int((values.isna() & ~missing).sum())
            whole = values.dropna()
            bad += int((whole != np.floor(whole)).sum())
            if bad:
                checks.append(Check(f"schema: {col}", False, f"{bad} value(s) are not integers"))
            out[col] = values.astype(float)
        else:
            out[col] = text.where(~missing, np.nan).astype(object)
            known = COLUMN_SPECS[col].values
            if known is not None:
                # Checked here, not with Evidently's OutListValueCount: whether that counts
                # missing cells as out of the list depends on how they are spelled.
                unknown = int((~text.isin(known) & ~missing).sum())
                checks.append(
                    Check(
                        f"vocabulary: {col}",
                        unknown == 0,
                        f"{unknown} value(s) outside the known set",
                    )
                )
    return out, checks


def _evidently_checks(
    cur: pd.DataFrame,
    ref: pd.DataFrame | None,
    columns: list[str],
    max_missing_increase: float,
    drift_share: float,
) -> list[Check]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import (
        MissingValueCount,
        OutRangeValueCount,
        ValueDrift,
    )

    metrics: list[Any] = [MissingValueCount(column=c) for c in columns]
    ranged = [c for c in columns if COLUMN_SPECS[c].dtype is int]
    metrics += [
        OutRangeValueCount(
            column=c, left=COLUMN_SPECS[c].minimum, right=COLUMN_SPECS[c].maximum or 10**9
        )
        for c in ranged
    ]
    drift_columns: list[str] = []
    if ref is not None:
        # Drift tests fail on an empty column; emptiness is reported by the missing check.
        drift_columns = [
            c for c in columns if c in ref.columns and cur[c].notna().any() and ref[c].notna().any()
        ]
        metrics += [ValueDrift(column=c) for c in drift_columns]

    definition = DataDefinition(
        numerical_columns=[c for c in NUMERIC_COLUMNS if c in columns]
        + [c for c in ranged if c not in NUMERIC_COLUMNS],
        categorical_columns=[c for c in CATEGORICAL_COLUMNS if c in columns and c not in ranged],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy/numpy division warnings on constant columns
        snapshot = Report(metrics, include_tests=ref is not None).run(
            current_data=Dataset.from_pandas(cur, data_definition=definition),
            reference_data=(
                Dataset.from_pandas(ref[columns], data_definition=definition)
                if ref is not None
                else None
            ),
        )
    result = snapshot.dict()
    values: dict[tuple[str, str], Any] = {}
    for metric in result["metrics"]:
        kind = metric["config"]["type"].rsplit(":", 1)[-1]
        values[(kind, metric["config"].get("column", ""))] = metric["value"]

    checks = []
    ref_missing = ref.isna().mean() if ref is not None else None
    for col in columns:
        missing = values[("MissingValueCount", col)]
        share = float(missing["share"])
        if ref_missing is not None and col in ref_missing:
            limit = float(ref_missing[col]) + max_missing_increase
        elif COLUMN_SPECS[col].missing_allowed:
            limit = 1.0 - 1e-9
        else:
            limit = max_missing_increase
        limit = min(limit, 1.0 - 1e-9)  # an entirely empty column is always broken
        checks.append(
            Check(
                f"missing share: {col}",
                share <= limit + 1e-12,
                f"{share:.1%} missing (limit {min(limit, 1.0):.1%})",
            )
        )
        if col in ranged:
            out = int(values[("OutRangeValueCount", col)]["count"])
            spec = COLUMN_SPECS[col]
            checks.append(
                Check(
                    f"range: {col}",
                    out == 0,
                    f"{out} value(s) outside [{spec.minimum}, {spec.maximum}]",
                )
            )
    if ref is not None:
        drifted = sorted(
            test["metric_config"]["params"]["column"]
            for test in result.get("tests", [])
            if test.get("id") == "drift" and test.get("status") == "FAIL"
        )
        share = len(drifted) / max(len(drift_columns), 1)
        checks.append(
            Check(
                "drift",
                share <= drift_share,
                f"{len(drifted)} of {len(drift_columns)} columns drifted ({share:.0%}, "
                f"limit {drift_share:.0%})" + (f": {', '.join(drifted)}" if drifted else ""),
            )
        )
    return checks


# --- performance floor ---------------------------------------------------------------------


def performance_gate(roc_auc_valid: float, floor: float, model: str = "model") -> GateResult:
    """The model's ROC AUC on validation data must reach the configured floor."""
    passed = roc_auc_valid >= floor
    check = Check(
        "validation ROC AUC",
        passed,
        f"{roc_auc_valid:.4f} {'>=' if passed else '<'} floor {floor:.4f}",
    )
    return _gate(f"performance floor ({model})", [check], check.detail, roc_auc=roc_auc_valid)


# --- champion / challenger -----------------------------------------------------------------


def champion_challenger_gate(
    name: str,
    challenger_version: str,
    x_test: pd.DataFrame,
    y_test: np.ndarray,
    *,
    margin: float,
    settings: CoreSettings,
) -> GateResult:
    """Score the registered challenger and the current champion on the same test data.

    Passes when there is no champion, or when the challenger's ROC AUC is at least the
    champion's minus `margin`. Both are loaded from the registry, so a version whose
    artifact does not load or score fails here, before any alias moves.
    """
    from sklearn.metrics import roc_auc_score

    from services.training.registry import CHAMPION, alias_version, load_model

    title = f"champion/challenger ({name})"
    checks: list[Check] = []
    try:
        challenger = load_model(name, challenger_version, settings)
        challenger_auc = float(roc_auc_score(y_test, challenger.predict_proba(x_test)[:, 1]))
    except Exception as exc:  # any load or scoring failure must block promotion
        checks.append(Check("challenger loads and scores", False, type(exc).__name__))
        return _gate(title, checks, f"challenger version {challenger_version} unusable")
    checks.append(
        Check(
            "challenger loads and scores",
            True,
            f"version {challenger_version}: test ROC AUC {challenger_auc:.4f}",
        )
    )
    champion = alias_version(name, CHAMPION, settings)
    if champion is None or str(champion.version) == str(challenger_version):
        summary = "no champion yet: the challenger becomes champion"
        if champion is not None:
            summary = "the challenger already is the champion"
        return _gate(title, checks, summary, challenger_auc=challenger_auc)
    try:
        incumbent = load_model(name, champion.version, settings)
        champion_auc = float(roc_auc_score(y_test, incumbent.predict_proba(x_test)[:, 1]))
    except Exception as exc:  # a broken champion must not block its replacement
        log.warning("champion cannot score the test data", extra={"error": type(exc).__name__})
        checks.append(
            Check("champion scores", True, f"champion failed to score ({type(exc).__name__})")
        )
        return _gate(
            title, checks, "champion unusable: challenger wins", challenger_auc=challenger_auc
        )
    passed = challenger_auc >= champion_auc - margin
    detail = (
        f"challenger v{challenger_version} {challenger_auc:.4f} vs champion "
        f"v{champion.version} {champion_auc:.4f} (margin {margin:.4f})"
    )
    checks.append(Check("test ROC AUC not worse than champion", passed, detail))
    return _gate(
        title,
        checks,
        detail + ("" if passed else ": challenger is worse, champion kept"),
        challenger_auc=challenger_auc,
        champion_auc=champion_auc,
        champion_version=str(champion.version),
    )

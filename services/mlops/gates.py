"""Shared gate types and exit code; the model gates: performance floor, champion vs challenger."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from services.core.settings import CoreSettings

log = logging.getLogger(__name__)

# The one exit code of a gate that says no (a command's errors exit with 2). DAG tasks read it
# to tell "the gate held" from "the job broke": pipelines/dags/beacon_pipelines/executor.py
# mirrors it (the DAGs never import services) and a test keeps the two equal.
GATE_FAILED = 1


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


def make_gate(name: str, checks: list[Check], summary: str, **values: Any) -> GateResult:
    """A verdict that passed when every check passed."""
    return GateResult(name, all(c.passed for c in checks), checks, summary, values)


# --- performance floor ---------------------------------------------------------------------


def performance_gate(roc_auc_valid: float, floor: float, model: str = "model") -> GateResult:
    """The model's ROC AUC on validation data must reach the configured floor."""
    passed = roc_auc_valid >= floor
    check = Check(
        "validation ROC AUC",
        passed,
        f"{roc_auc_valid:.4f} {'>=' if passed else '<'} floor {floor:.4f}",
    )
    return make_gate(f"performance floor ({model})", [check], check.detail, roc_auc=roc_auc_valid)


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

    from services.mlops.registry import CHAMPION, alias_version, load_model

    title = f"champion/challenger ({name})"
    checks: list[Check] = []
    try:
        challenger = load_model(name, challenger_version, settings)
        challenger_auc = float(roc_auc_score(y_test, challenger.predict_proba(x_test)[:, 1]))
    except Exception as exc:  # any load or scoring failure must block promotion
        checks.append(Check("challenger loads and scores", False, type(exc).__name__))
        return make_gate(title, checks, f"challenger version {challenger_version} unusable")
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
        return make_gate(title, checks, summary, challenger_auc=challenger_auc)
    try:
        incumbent = load_model(name, champion.version, settings)
        champion_auc = float(roc_auc_score(y_test, incumbent.predict_proba(x_test)[:, 1]))
    except Exception as exc:  # a broken champion must not block its replacement
        log.warning("champion cannot score the test data", extra={"error": type(exc).__name__})
        checks.append(
            Check("champion scores", True, f"champion failed to score ({type(exc).__name__})")
        )
        return make_gate(
            title, checks, "champion unusable: challenger wins", challenger_auc=challenger_auc
        )
    passed = challenger_auc >= champion_auc - margin
    detail = (
        f"challenger v{challenger_version} {challenger_auc:.4f} vs champion "
        f"v{champion.version} {champion_auc:.4f} (margin {margin:.4f})"
    )
    checks.append(Check("test ROC AUC not worse than champion", passed, detail))
    return make_gate(
        title,
        checks,
        detail + ("" if passed else ": challenger is worse, champion kept"),
        challenger_auc=challenger_auc,
        champion_auc=champion_auc,
        champion_version=str(champion.version),
    )

"""The closed loop over simulated time: score, check drift, retrain, gate, promote or keep."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from services.core.database import resolve_database_url
from services.core.errors import BeaconError
from services.core.storage import join
from services.drift.batches import generated_data
from services.drift.checks import DriftResult, check_drift
from services.drift.outputs import write_outputs
from services.drift.reference import Reference, load_reference
from services.drift.settings import DriftSettings
from services.training import registry
from services.training.drift_scenarios import get_scenario
from services.training.families import parse_families
from services.training.readmission_schema import FEATURE_COLUMNS, TARGET_COLUMN, to_target

Say = Callable[[str], None]


@dataclass
class BatchStep:
    """What happened at one batch: the drift found and the decision taken, with its reason."""

    batch: int
    rows: int
    served_version: str
    share_of_drifted_columns: float
    drifted_columns: list[str]
    prediction_drift: float
    roc_auc_served: float
    roc_auc_never_retrained: float
    retrain_recommended: bool
    reasons: list[str]
    decision: str
    retrained: bool = False
    promoted_version: str | None = None


@dataclass
class Simulation:
    """The whole run: scenario, model name, the initial version and one step per batch."""

    scenario: str
    model_name: str
    initial_version: str
    steps: list[BatchStep] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def retrain_batches(self) -> list[int]:
        """Batches after which a challenger was trained."""
        return [s.batch for s in self.steps if s.retrained]

    @property
    def promotion_batches(self) -> list[int]:
        """Batches after which a challenger became champion."""
        return [s.batch for s in self.steps if s.promoted_version]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready record of the run (the timeline page reads the same data)."""
        return {
            "scenario": self.scenario,
            "model_name": self.model_name,
            "initial_version": self.initial_version,
            "retrain_batches": self.retrain_batches,
            "promotion_batches": self.promotion_batches,
            "steps": [asdict(step) for step in self.steps],
        }


def simulate(
    settings: DriftSettings,
    *,
    n_batches: int,
    model_name: str | None = None,
    say: Say = lambda _: None,
) -> Simulation:
    """Walk the later batches in time order, retraining whenever a drift gate fails.

    Run ids derive from the scenario, seed and batch, so rerunning (after a kill, say) resumes
    the Optuna studies and reuses registered versions: it ends in the same state.
    """
    from services.training.train import train_readmission

    scenario = get_scenario(settings.drift_scenario)
    model_name = model_name or f"readmission-sim-{scenario.name}"
    run_prefix = f"sim-{scenario.name}-{settings.seed}-{settings.readmission_rows}"
    families = parse_families(settings.simulate_families)
    say(f"scenario {scenario.name}: " + "; ".join(scenario.describe()))
    frame, batches = generated_data(settings)
    batches = batches[:n_batches]

    database_url = resolve_database_url(settings)

    def retrain(data: pd.DataFrame, run_id: str, share: float) -> Any:
        return train_readmission(
            settings.model_copy(update={"initial_share": share}),
            database_url=database_url,
            frame=data,
            source=f"simulation:{run_id}",
            run_id=run_id,
            families=families,
            trials=settings.simulate_trials,
            model_name=model_name,
            say=lambda line: say(f"    {line}"),
        )

    say(f"initial model: training {model_name} on the oldest {settings.initial_share:.0%}")
    initial = retrain(frame, f"{run_prefix}-initial", settings.initial_share)
    if initial.version is None:
        raise BeaconError("the initial model failed its gates: " + _failed(initial))
    # A rerun starts from the same champion as a clean run.
    registry.promote(model_name, settings, initial.version)
    simulation = Simulation(scenario.name, model_name, initial.version)
    never_retrained = registry.load_model(model_name, initial.version, settings)

    references: dict[str, Reference] = {}
    for number, batch in enumerate(batches, start=1):
        champion = registry.alias_version(model_name, registry.CHAMPION, settings)
        version = str(champion.version)
        if version not in references:
            references[version] = load_reference(model_name, settings, registry.CHAMPION)
        result = check_drift(references[version], batch, settings, label=f"batch-{number}")
        write_outputs(result, settings, join(_root(settings, scenario.name), f"batch-{number}"))
        step = _step(number, batch, result, never_retrained)
        say(
            f"batch {number}: {step.rows} rows, v{version} serving, ROC AUC "
            f"{step.roc_auc_served:.4f} (never retrained {step.roc_auc_never_retrained:.4f}), "
            f"{len(step.drifted_columns)} drifted column(s) "
            f"({step.share_of_drifted_columns:.1%})"
        )
        if result.retrain_recommended:
            window = batches[max(0, number - settings.simulate_window_batches) : number]
            data = pd.concat(window, ignore_index=True)
            say(f"  retraining on batches {number - len(window) + 1}-{number}: {step.reasons}")
            outcome = retrain(data, f"{run_prefix}-b{number}", 1.0)
            step.retrained = True
            if outcome.promoted is not None:
                step.promoted_version = str(outcome.version)
                step.decision = f"retrained: v{outcome.version} promoted"
            else:
                step.decision = f"retrained: champion v{version} kept ({_failed(outcome)})"
        else:
            step.decision = "no drift: keep champion"
        say(f"  decision: {step.decision}")
        simulation.steps.append(step)
    return simulation


def _step(number: int, batch: pd.DataFrame, result: DriftResult, baseline: Any) -> BatchStep:
    from sklearn.metrics import roc_auc_score

    y = to_target(batch[TARGET_COLUMN])
    baseline_auc = float(roc_auc_score(y, baseline.predict_proba(batch[FEATURE_COLUMNS])[:, 1]))
    concept = result.concept or {}
    return BatchStep(
        batch=number,
        rows=len(batch),
        served_version=result.model_version,
        share_of_drifted_columns=round(result.share_of_drifted_columns, 6),
        drifted_columns=result.drifted_columns,
        prediction_drift=float(result.prediction["score"]),
        roc_auc_served=float(concept.get("roc_auc_current", np.nan)),
        roc_auc_never_retrained=round(baseline_auc, 6),
        retrain_recommended=result.retrain_recommended,
        reasons=result.reasons,
        decision="",
    )


def _failed(outcome: Any) -> str:
    failed = [g for g in outcome.gates if not g.passed]
    return "; ".join(f"{g.name}: {g.summary}" for g in failed) or "not promoted"


def _root(settings: DriftSettings, scenario: str) -> str:
    return join(settings.resolved_reports_uri, "simulation", scenario)


def simulation_root(settings: DriftSettings) -> str:
    """Where a scenario's timeline and per-batch reports are written."""
    return _root(settings, get_scenario(settings.drift_scenario).name)

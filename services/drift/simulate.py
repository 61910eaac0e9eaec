"""The closed loop over simulated time: score, check drift, retrain, gate, promote or keep."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from services.core.database import resolve_database_url
from services.core.errors import BeaconError
from services.core.storage import Storage, join
from services.drift.batches import generated_data
from services.drift.checks import DriftResult, check_drift
from services.drift.outputs import check_inputs, recorded_result, write_outputs
from services.drift.reference import Reference, load_reference
from services.drift.settings import DriftSettings
from services.mlops import registry
from services.training.drift_scenarios import get_scenario
from services.training.families import parse_families
from services.training.readmission_schema import FEATURE_COLUMNS, TARGET_COLUMN, to_target
from services.training.readmission_splits import split_readmission

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
    #: Gate name -> passed, and the concept figures (AUC interval, calibration in the large).
    gates: dict[str, bool] = field(default_factory=dict)
    concept: dict[str, float] = field(default_factory=dict)


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

    def mean_roc_auc(self, from_batch: int = 3) -> dict[str, float]:
        """Mean ROC AUC from `from_batch` on: served model, never-retrained model, the gain."""
        later = [s for s in self.steps if s.batch >= from_batch] or self.steps
        served = float(np.mean([s.roc_auc_served for s in later])) if later else float("nan")
        never = float(np.mean([s.roc_auc_never_retrained for s in later])) if later else np.nan
        return {
            "from_batch": later[0].batch if later else from_batch,
            "served": round(served, 6),
            "never_retrained": round(float(never), 6),
            "gain": round(served - float(never), 6),
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready record of the run (the timeline page reads the same data)."""
        return {
            "scenario": self.scenario,
            "model_name": self.model_name,
            "initial_version": self.initial_version,
            "retrain_batches": self.retrain_batches,
            "promotion_batches": self.promotion_batches,
            "mean_roc_auc": self.mean_roc_auc(),
            "steps": [asdict(step) for step in self.steps],
        }


@dataclass(frozen=True)
class SimulationData:
    """What a simulation walks: all encounters, their later batches, and names for the run."""

    name: str  # the scenario, or `file-<name>` for a user's file
    frame: pd.DataFrame
    batches: list[pd.DataFrame]
    run_prefix: str  # deterministic, so a rerun resumes the same runs


def generated_simulation(settings: DriftSettings, n_batches: int) -> SimulationData:
    """The generated encounters under the configured scenario; the first `n_batches` batches."""
    scenario = get_scenario(settings.drift_scenario)
    frame, batches = generated_data(settings)
    prefix = f"sim-{scenario.name}-{settings.seed}-{settings.readmission_rows}"
    return SimulationData(scenario.name, frame, batches[:n_batches], prefix)


def file_simulation(
    settings: DriftSettings, frame: pd.DataFrame, source: str, n_batches: int, *, control: bool
) -> SimulationData:
    """A user's file: its oldest share trains the first model, the rest is cut in batches.

    The control keeps the same rows in a seeded random time order: every batch is then drawn
    from the first model's own population, so a retraining there is a false alarm.
    """
    stem = source.split(":")[1] if source.count(":") >= 2 else source
    name = "file-" + "".join(ch if ch.isalnum() else "-" for ch in stem.rsplit(".", 1)[0])
    if control:
        frame = shuffled_time(frame, settings.seed)
        name += "-control"
    digest = source.rsplit(":", 1)[-1]
    splits = split_readmission(frame, initial_share=settings.initial_share, seed=settings.seed)
    prefix = f"sim-{name}-{settings.seed}-{digest}-{settings.initial_share:g}-{n_batches}"
    return SimulationData(name, frame, splits.future_batches(n_batches), prefix)


def shuffled_time(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The same encounters in a seeded random time order (the ids are dealt out again)."""
    order = np.random.default_rng([seed, 7]).permutation(len(frame))
    shuffled = frame.iloc[order].reset_index(drop=True)
    shuffled["encounter_id"] = np.sort(frame["encounter_id"].to_numpy())
    return shuffled


def simulate(
    settings: DriftSettings,
    *,
    n_batches: int,
    model_name: str | None = None,
    say: Say = lambda _: None,
    data: SimulationData | None = None,
) -> Simulation:
    """Walk the later batches in time order, retraining whenever a drift gate fails.

    `data` is a user's file (see file_simulation); without it, the generated data. Run ids
    derive from the data, seed and batch, so rerunning (after a kill, say) resumes the Optuna
    studies and reuses registered versions: it ends in the same state.
    """
    from services.training.train import train_readmission

    if data is None:
        data = generated_simulation(settings, n_batches)
        say(f"scenario {data.name}: " + "; ".join(get_scenario(settings.drift_scenario).describe()))
    else:
        say(f"data {data.name}: {len(data.frame)} encounters, {len(data.batches)} later batches")
    model_name = model_name or f"readmission-sim-{data.name}"
    run_prefix = data.run_prefix
    families = parse_families(settings.simulate_families)
    frame, batches = data.frame, data.batches

    database_url = resolve_database_url(settings)

    def retrain(rows: pd.DataFrame, run_id: str, share: float) -> Any:
        return train_readmission(
            settings.model_copy(update={"initial_share": share}),
            database_url=database_url,
            frame=rows,
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
    simulation = Simulation(data.name, model_name, initial.version)
    never_retrained = registry.load_model(model_name, initial.version, settings)

    walk = _Walk(settings, data, model_name, retrain, say, Storage(settings.aws_region))
    for number, batch in enumerate(batches, start=1):
        result, version = walk.check(number, batch)
        step = _step(number, batch, result, never_retrained)
        say(
            f"batch {number}: {step.rows} rows, v{version} serving, ROC AUC "
            f"{step.roc_auc_served:.4f} (never retrained {step.roc_auc_never_retrained:.4f}), "
            f"{len(step.drifted_columns)} drifted column(s) "
            f"({step.share_of_drifted_columns:.1%})"
        )
        walk.decide(number, step, result, version)
        say(f"  decision: {step.decision}")
        simulation.steps.append(step)
    return simulation


@dataclass
class _Walk:
    """What every batch's drift check and decision share within one simulation."""

    settings: DriftSettings
    data: SimulationData
    model_name: str
    retrain: Callable[[pd.DataFrame, str, float], Any]
    say: Say
    storage: Storage
    references: dict[str, Reference] = field(default_factory=dict)

    def check(self, number: int, batch: pd.DataFrame) -> tuple[DriftResult, str]:
        """The batch's drift check against the serving champion, and that champion's version."""
        settings, model_name = self.settings, self.model_name
        champion = registry.alias_version(model_name, registry.CHAMPION, settings)
        version = str(champion.version)
        out = join(_root(settings, self.data.name), f"batch-{number}")
        inputs = check_inputs(batch, model_name, version, settings)
        # A rerun (after a kill, say) reuses each check it finished: same rows, same champion,
        # same limits give the same verdict, so only the missing checks run again.
        result = recorded_result(out, inputs, self.storage)
        if result is not None:
            self.say(
                f"batch {number}: drift check recorded by an earlier run (same rows and limits)"
            )
            return result, version
        if version not in self.references:
            self.references[version] = load_reference(model_name, settings, registry.CHAMPION)
        result = check_drift(self.references[version], batch, settings, label=f"batch-{number}")
        result.inputs = inputs
        write_outputs(result, settings, out, self.storage)
        return result, version

    def decide(self, number: int, step: BatchStep, result: DriftResult, version: str) -> None:
        """Retrain on the recent batches when a gate failed; record what became of it."""
        if not result.retrain_recommended:
            step.decision = "no drift: keep champion"
            return
        batches = self.data.batches
        window = batches[max(0, number - self.settings.simulate_window_batches) : number]
        recent = pd.concat(window, ignore_index=True)
        self.say(f"  retraining on batches {number - len(window) + 1}-{number}: {step.reasons}")
        outcome = self.retrain(recent, f"{self.data.run_prefix}-b{number}", 1.0)
        step.retrained = True
        if outcome.promoted is not None:
            step.promoted_version = str(outcome.version)
            step.decision = f"retrained: v{outcome.version} promoted"
        else:
            step.decision = f"retrained: champion v{version} kept ({_failed(outcome)})"


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
        gates={g.name: g.passed for g in result.gates},
        concept=dict(concept),
    )


def _failed(outcome: Any) -> str:
    failed = [g for g in outcome.gates if not g.passed]
    return "; ".join(f"{g.name}: {g.summary}" for g in failed) or "not promoted"


def _root(settings: DriftSettings, scenario: str) -> str:
    return join(settings.resolved_reports_uri, "simulation", scenario)


def simulation_root(settings: DriftSettings, name: str | None = None) -> str:
    """Where a simulation's timeline and per-batch reports are written."""
    return _root(settings, name or get_scenario(settings.drift_scenario).name)

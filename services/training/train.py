"""The readmission training job: data, gates, search per family, refit, register, promote."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from services.core.errors import BeaconError
from services.core.locks import job_lock
from services.core.machine import usable_cores
from services.core.shards import Shard
from services.mlops import registry
from services.mlops.gates import GateResult, champion_challenger_gate, performance_gate
from services.mlops.metrics import (
    auc_interval,
    best_f1_threshold,
    classification_metrics,
    f1_at,
)
from services.mlops.runs import find_run
from services.training.families import (
    FAMILIES,
    Family,
    final_estimator,
    native_importances,
    parse_families,
)
from services.training.features import build_preprocessor, model_pipeline
from services.training.gates import validate_data
from services.training.hpo import (
    ProgressCallback,
    completed_trials,
    optuna_storage,
    search,
    settle,
    study_name,
)
from services.training.informative import uninformative_columns
from services.training.readmission_io import load_readmission_csv
from services.training.readmission_schema import (
    EXAMPLE_RECORD,
    FEATURE_COLUMNS,
    TARGET_COLUMN,
    to_target,
)
from services.training.readmission_splits import ReadmissionSplits, split_readmission
from services.training.readmission_synthetic import generate_readmission
from services.training.run_record import (
    FamilyResult,
    gate_fingerprint,
    record_data_gate,
    record_family,
    recorded_data_gate,
    recorded_family,
)
from services.training.settings import TrainingSettings

log = logging.getLogger(__name__)

MODEL_NAME = "readmission"
#: Logged on the training run; drift checks load it as the model's reference data.
REFERENCE_ARTIFACT = "data/reference.parquet"
Say = Callable[[str], None]
# Where `train_readmission(stop_after=...)` may stop, in order; pipelines run one stage per task.
STAGES = ("validate", "train", "register")


@dataclass
class TrainingOutcome:
    """Everything a caller (CLI, DAG task, test) needs to report on a training run."""

    run_id: str
    gates: list[GateResult] = field(default_factory=list)
    families: list[FamilyResult] = field(default_factory=list)
    best: FamilyResult | None = None
    version: str | None = None
    promoted: registry.AliasMove | None = None
    #: Feature columns left out because the training window holds one value only: reasons.
    dropped_columns: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when every gate that ran passed."""
        return all(g.passed for g in self.gates)


def new_run_id() -> str:
    """A sortable, unique run id (pass it back with --run-id to resume a run)."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def load_data(
    settings: TrainingSettings, data_path: Path | None, ids_mapping: Path | None
) -> tuple[pd.DataFrame, str]:
    """(frame, source label): the user's file when given, else the generated data."""
    if data_path is not None:
        frame = load_readmission_csv(data_path, ids_mapping)
        digest = hashlib.sha256(Path(data_path).read_bytes()).hexdigest()[:12]
        return frame, f"file:{Path(data_path).name}:{digest}"
    rows = settings.readmission_rows
    return generate_readmission(rows, seed=settings.seed), f"generated:{rows}:{settings.seed}"


def held_out_data_gate(splits: Any, settings: TrainingSettings, dropped: Any) -> GateResult:
    """The data gate every worker runs: validation + test rows against the training rows."""
    return validate_data(
        pd.concat([splits.validation, splits.test]),
        splits.train,
        max_missing_increase=settings.validation_max_missing_share,
        drift_share=settings.validation_drift_share,
        require_target=True,
        ignore=list(dropped),
    )


def train_readmission(
    settings: TrainingSettings,
    *,
    database_url: str,
    frame: pd.DataFrame,
    source: str = "data",
    run_id: str | None = None,
    families: list[str] | None = None,
    trials: int | None = None,
    model_name: str = MODEL_NAME,
    say: Say = lambda _: None,
    on_trial: ProgressCallback | None = None,
    stop_after: str | None = None,
    worker: Shard | None = None,
) -> TrainingOutcome:
    """Run the whole job on a validated raw frame; stops at the first failing gate.

    `worker` 0/N shares each family's study with N - 1 search-only workers
    (services.training.parallel): it searches too, waits for every trial, then refits and
    registers once.

    Rerunning with the same `run_id` resumes: the Optuna studies (in `database_url`) keep
    their completed trials, the MLflow runs are reused, and an already registered candidate
    is not registered twice. `stop_after` (one of STAGES) ends the run after that stage, so
    a pipeline can run the stages as separate tasks that share the run id.
    """
    if stop_after is not None and stop_after not in STAGES:
        raise BeaconError(f"stop_after must be one of {', '.join(STAGES)}, not {stop_after!r}")
    if worker is not None and worker.index != 0:
        raise BeaconError(f"worker {worker} only searches: run it with parallel.search_worker")
    run_id = run_id or new_run_id()
    outcome = TrainingOutcome(run_id=run_id)
    plan = SearchPlan(
        settings=settings,
        database_url=database_url,
        run_id=run_id,
        model_name=model_name,
        source=source,
        families=families or parse_families(settings.hpo_families),
        trials=trials or settings.hpo_trials,
        say=say,
        on_trial=on_trial,
        worker=worker,
    )
    splits = split_readmission(frame, initial_share=settings.initial_share, seed=settings.seed)
    say(
        f"data {source}: {len(frame)} encounters; initial {len(splits.initial)} -> train "
        f"{len(splits.train)} / validation {len(splits.validation)} / test "
        f"{len(splits.test)} (by patient); {len(splits.future)} later encounters held back"
    )
    validated = _validate(plan, splits, outcome)
    if validated is None or stop_after == "validate":
        return outcome
    runs, fingerprint = validated
    best = _search_families(plan, outcome, splits, runs, fingerprint)
    if stop_after == "train":
        return outcome
    floor_gate = performance_gate(best.valid["roc_auc"], settings.auc_floor, best.label)
    outcome.gates.append(floor_gate)
    say(floor_gate.report())
    if floor_gate.passed:
        _register_and_promote(plan, best, splits.test, outcome, stop_after)
    return outcome


def _validate(
    plan: SearchPlan, splits: ReadmissionSplits, outcome: TrainingOutcome
) -> tuple[tuple[str, str], str] | None:
    """The data gate, or the verdict an earlier stage of the run recorded; None if it fails.

    On success: ((experiment id, parent MLflow run id), the gate's data fingerprint).
    """
    settings, say = plan.settings, plan.say
    outcome.dropped_columns = uninformative_columns(splits.train)
    for column, reason in outcome.dropped_columns.items():
        say(f"feature {column!r} left out: {reason} (uninformative in this window)")
    experiment_id = registry.ensure_experiment(plan.model_name, settings)
    rows = (len(splits.train), len(splits.validation), len(splits.test))
    fingerprint = gate_fingerprint(plan.source, settings, outcome.dropped_columns, rows)
    parent = find_run(experiment_id, plan.run_id, kind="training")  # the run's, if any
    data_gate = recorded_data_gate(parent, fingerprint)
    if data_gate is not None:
        say(data_gate.report())
        say(f"    (verdict recorded by an earlier stage of run {plan.run_id}; not checked again)")
    else:
        data_gate = held_out_data_gate(splits, settings, outcome.dropped_columns)
        say(data_gate.report())
        if data_gate.passed:
            parent = _open_training_run(
                experiment_id, parent, plan, splits, outcome, data_gate, fingerprint
            )
    outcome.gates.append(data_gate)
    if not data_gate.passed or parent is None:
        return None
    return (experiment_id, parent), fingerprint


def _register_and_promote(
    plan: SearchPlan,
    best: FamilyResult,
    test: pd.DataFrame,
    outcome: TrainingOutcome,
    stop_after: str | None,
) -> None:
    """Register the best family as challenger, then the champion/challenger gate."""
    # One registration/promotion at a time per model (the search itself may be shared).
    with job_lock(plan.database_url, f"promote:{plan.model_name}"):
        version = _register(best, plan.model_name, plan.run_id, plan.settings)
        outcome.version = version
        plan.say(f"registered {plan.model_name} version {version} ({best.label}) as challenger")
        if stop_after == "register":
            return
        promotion_gate, outcome.promoted = promote_if_passes(
            plan.model_name, version, test, plan.settings
        )
        outcome.gates.append(promotion_gate)
        plan.say(promotion_gate.report())
        if outcome.promoted is not None:
            plan.say(outcome.promoted.describe("promoted"))


def promote_if_passes(
    model_name: str, version: str, test: pd.DataFrame, settings: TrainingSettings
) -> tuple[GateResult, registry.AliasMove | None]:
    """Champion/challenger gate on `test`; move `champion` to `version` only when it passes.

    Callers hold the model's `promote:` job lock, so two promotions cannot interleave.
    """
    gate = champion_challenger_gate(
        model_name,
        version,
        test[FEATURE_COLUMNS],
        to_target(test[TARGET_COLUMN]),
        margin=settings.promotion_margin,
        settings=settings,
    )
    return gate, (registry.promote(model_name, settings, version) if gate.passed else None)


@dataclass(frozen=True)
class SearchPlan:
    """What one training run searches: where, under which ids, which families and budget."""

    settings: TrainingSettings
    database_url: str
    run_id: str
    model_name: str
    source: str
    families: list[str]
    trials: int
    say: Say
    on_trial: ProgressCallback | None = None
    worker: Shard | None = None


def _search_families(
    plan: SearchPlan,
    outcome: TrainingOutcome,
    splits: ReadmissionSplits,
    runs: tuple[str, str],
    fingerprint: str,
) -> FamilyResult:
    """Search, refit and log every family under the run's parent MLflow run; return the best.

    A family an earlier stage of the run finished (same data fingerprint, full budget) is
    reused from its record: no second refit, no second logged model.
    """
    import mlflow

    settings, run_id = plan.settings, plan.run_id
    experiment_id, parent = runs  # the parent run exists: the data gate opened it
    shared = plan.worker is not None and not plan.worker.whole
    # Built only when a family still needs training: a later pipeline stage that reuses every
    # recorded family neither refits the preprocessor nor opens the Optuna storage.
    prepared: _Prepared | None = None
    storage: Any = None
    try:
        with mlflow.start_run(run_id=parent, experiment_id=experiment_id) as parent_run:
            for name in plan.families:
                family = FAMILIES[name]
                existing = find_run(experiment_id, run_id, kind="family", family=family.name)
                result = recorded_family(existing, fingerprint, plan.trials)
                if result is None:
                    if prepared is None:
                        prepared = _Prepared.of(splits, outcome.dropped_columns)
                        storage = optuna_storage(plan.database_url, heartbeat=shared)
                    run = _FamilyRun(
                        experiment_id, parent_run.info.run_id, existing, storage, shared,
                        settings.train_threads or family_threads(family), fingerprint,
                    )  # fmt: skip
                    result = _train_family(family, plan, prepared, run)
                outcome.families.append(result)
                plan.say(
                    f"[{name}] best of {result.trials} trials: validation ROC AUC "
                    f"{result.valid['roc_auc']:.4f}, test ROC AUC {result.test['roc_auc']:.4f}"
                    f"{interval_text(result.test)} (PR AUC {result.test['pr_auc']:.4f}, "
                    f"Brier {result.test['brier']:.4f})"
                )
            # Chosen on validation: the test split is kept for the champion comparison.
            best = max(outcome.families, key=lambda r: r.valid["roc_auc"])
            outcome.best = best
            mlflow.set_tags({"beacon.best_family": best.family})
            mlflow.log_metrics({"best_val_roc_auc": best.valid["roc_auc"]})
    finally:
        if storage is not None:
            storage.engine.dispose()  # no idle connections left on the database after the job
    return best


def interval_text(test: dict[str, float]) -> str:
    """` [95 % CI low-high]`: the DeLong interval of a test ROC AUC; "" for older records."""
    if "roc_auc_low" not in test:
        return ""
    return f" [95 % CI {test['roc_auc_low']:.3f}-{test['roc_auc_high']:.3f}]"


def _open_training_run(
    experiment_id: str,
    parent: str | None,
    plan: SearchPlan,
    splits: ReadmissionSplits,
    outcome: TrainingOutcome,
    gate: GateResult,
    fingerprint: str,
) -> str:
    """Create (or reopen) the run's parent MLflow run: its data, once, and the gate's verdict."""
    import mlflow

    with mlflow.start_run(
        run_id=parent, experiment_id=experiment_id, run_name=f"train-{plan.run_id}",
        tags={registry.TAG_RUN_ID: plan.run_id, "beacon.kind": "training"},
    ) as opened:  # fmt: skip
        if parent is None:
            _log_data(splits, plan.source, gate, plan.settings, plan.families, plan.trials)
            mlflow.log_params({"dropped_columns": ",".join(outcome.dropped_columns) or "-"})
        record_data_gate(gate, fingerprint)
    return opened.info.run_id


def family_threads(family: Family) -> int:
    """Default threads per model: every core for the forest, one for the others.

    Measured here: OpenMP (HistGradientBoosting, LightGBM) and BLAS (logistic regression)
    threads on 14,000 rows were 3-4x *slower* with two threads than with one whenever other
    processes shared the cores, while the forest's joblib threads still scale.
    """
    return usable_cores() if family.name == "random_forest" else 1


@dataclass(frozen=True)
class _Prepared:
    """The run's splits, transformed once and shared by every family."""

    splits: ReadmissionSplits
    preprocessor: Any
    feature_names: np.ndarray
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # x/y train, x/y validation

    @classmethod
    def of(cls, splits: ReadmissionSplits, dropped: dict[str, str]) -> _Prepared:
        preprocessor = build_preprocessor(drop=dropped)
        x_train = preprocessor.fit_transform(splits.train[FEATURE_COLUMNS])
        x_valid = preprocessor.transform(splits.validation[FEATURE_COLUMNS])
        y_train = to_target(splits.train[TARGET_COLUMN])
        y_valid = to_target(splits.validation[TARGET_COLUMN])
        data = (x_train, y_train, x_valid, y_valid)
        return cls(splits, preprocessor, preprocessor.get_feature_names_out(), data)


@dataclass(frozen=True)
class _FamilyRun:
    """Where one family's search runs and is recorded."""

    experiment_id: str
    parent_id: str
    existing: str | None  # the family's MLflow run from an earlier stage, if any
    storage: Any  # the Optuna storage
    shared: bool  # other workers search the same study
    threads: int
    fingerprint: str


def _train_family(
    family: Family, plan: SearchPlan, prepared: _Prepared, run: _FamilyRun
) -> FamilyResult:
    """One family: its Optuna search, then the refit of its best trial, logged and recorded."""
    import mlflow
    from threadpoolctl import threadpool_limits

    with mlflow.start_run(
        run_id=run.existing, experiment_id=run.experiment_id, run_name=family.name,
        nested=True, parent_run_id=run.parent_id,
        tags={registry.TAG_RUN_ID: plan.run_id, "beacon.kind": "family",
              "beacon.family": family.name},
    ) as family_run, threadpool_limits(run.threads):  # fmt: skip
        study = _family_study(family, plan, prepared, run)
        result = _refit_best(
            family, study, prepared, plan.settings, threads=run.threads,
            family_run_id=family_run.info.run_id,
        )  # fmt: skip
        record_family(result, run.fingerprint)
        return result


def _family_study(family: Family, plan: SearchPlan, prepared: _Prepared, run: _FamilyRun) -> Any:
    """The family's finished study: this process's trials, and with shared workers theirs."""
    import mlflow

    def log_trial(number: int, params: dict[str, Any], metrics: dict[str, float]) -> None:
        with mlflow.start_run(
            experiment_id=run.experiment_id, run_name=f"{family.name}-trial-{number}",
            nested=True, tags={"beacon.kind": "trial", "beacon.trial": str(number)},
        ):  # fmt: skip
            mlflow.log_params(params)
            mlflow.log_metrics({f"val_{k}": v for k, v in metrics.items()})

    def run_search() -> Any:
        settings = plan.settings
        return search(
            family,
            prepared.data,
            storage=run.storage,
            name=study_name(plan.model_name, plan.run_id, family.name),
            n_trials=plan.trials,
            seed=settings.seed,
            threads=run.threads,
            timeout=settings.hpo_timeout_seconds,
            sample_rows=settings.hpo_sample_rows,
            log_trial=log_trial,
            progress=plan.on_trial,
            worker=0 if run.shared else None,
        )

    study = run_search()
    if run.shared:
        # Refit only on the whole study: wait for the other workers' trials (and rerun
        # those a dead worker left), then record their trials as this run's children.
        study = settle(study, plan.trials, top_up=run_search)
        from services.training.trial_runs import log_other_trials

        log_other_trials(study, run.experiment_id, family.name, log_trial)
    if completed_trials(study) == 0:
        raise BeaconError(f"{family.label}: no trial completed (see the logged errors)")
    return study


def _refit_best(
    family: Family,
    study: Any,
    prepared: _Prepared,
    settings: TrainingSettings,
    *,
    threads: int,
    family_run_id: str,
) -> FamilyResult:
    """Refit the best trial on train; its metrics, artifacts and model logged to the family run."""
    import mlflow

    best_trial = study.best_trial
    x_train, y_train, x_valid, y_valid = prepared.data
    test_split = prepared.splits.test
    estimator = final_estimator(family, best_trial.params, settings.seed, threads)
    estimator.fit(x_train, y_train)
    _single_threaded(estimator)  # serving scores one row at a time
    model = model_pipeline(prepared.preprocessor, estimator)
    valid_scores = estimator.predict_proba(x_valid)[:, 1]
    test_scores = model.predict_proba(test_split[FEATURE_COLUMNS])[:, 1]
    y_test = to_target(test_split[TARGET_COLUMN])
    threshold, valid_f1 = best_f1_threshold(y_valid, valid_scores)
    valid = classification_metrics(y_valid, valid_scores) | {"f1": valid_f1}
    test = classification_metrics(y_test, test_scores)
    test["f1"] = f1_at(y_test, test_scores, threshold)
    test["roc_auc_low"], test["roc_auc_high"] = auc_interval(y_test, test_scores)
    mlflow.log_params({f"best_{k}": v for k, v in best_trial.params.items()})
    mlflow.log_params({"calibration": "sigmoid-cv3" if family.needs_calibration else "none"})
    mlflow.log_metrics(
        {f"val_{k}": v for k, v in valid.items()}
        | {f"test_{k}": v for k, v in test.items()}
        | {"threshold": threshold, "trials_completed": len(study.trials)}
    )
    _log_family_artifacts(
        family, estimator, prepared.feature_names, (y_valid, valid_scores),
        (y_test, test_scores), x_valid, settings.seed,
    )  # fmt: skip
    info = registry.log_sklearn_model(model, pd.DataFrame([EXAMPLE_RECORD]))
    return FamilyResult(
        family=family.name,
        label=family.label,
        params=dict(best_trial.params),
        trials=sum(1 for t in study.trials if t.state.name == "COMPLETE"),
        valid=valid,
        test=test,
        threshold=threshold,
        model=model,
        run_id=family_run_id,
        model_uri=info.model_uri,
        best_trial=best_trial.number,
    )


def _single_threaded(estimator: Any) -> None:
    inner = [estimator] + [c.estimator for c in getattr(estimator, "calibrated_classifiers_", [])]
    for est in inner:
        if "n_jobs" in est.get_params():
            est.set_params(n_jobs=1)


def _log_family_artifacts(
    family: Family,
    estimator: Any,
    feature_names: np.ndarray,
    valid: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    x_valid: np.ndarray,
    seed: int,
) -> None:
    import mlflow

    from services.training import artifacts

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        artifacts.roc_plot(
            {"validation": valid, "test": test}, folder / "roc.png", f"ROC: {family.label}"
        )
        artifacts.calibration_plot(
            *test, folder / "calibration.png", f"Calibration (test): {family.label}"
        )
        importances = native_importances(estimator)
        if importances is None:
            importances = _permutation_importances(estimator, x_valid, valid[0], seed)
        artifacts.importance_files(feature_names, importances, folder)
        mlflow.log_artifacts(str(folder))


def _permutation_importances(
    estimator: Any, x_valid: np.ndarray, y_valid: np.ndarray, seed: int
) -> np.ndarray:
    from sklearn.inspection import permutation_importance

    rows = min(len(y_valid), 2000)
    pick = np.random.default_rng(seed).choice(len(y_valid), rows, replace=False)
    result = permutation_importance(
        estimator, x_valid[pick], y_valid[pick], scoring="roc_auc", n_repeats=1,
        random_state=seed,
    )  # fmt: skip
    values = np.clip(result.importances_mean, 0, None)
    return values / values.sum() if values.sum() > 0 else values


def _log_data(
    splits: ReadmissionSplits,
    source: str,
    data_gate: GateResult,
    settings: TrainingSettings,
    families: list[str],
    n_trials: int,
) -> None:
    import mlflow

    from services.training import artifacts

    mlflow.log_params(
        {
            "data_source": source,
            "rows_train": len(splits.train),
            "rows_validation": len(splits.validation),
            "rows_test": len(splits.test),
            "rows_future": len(splits.future),
            "seed": settings.seed,
            "families": ",".join(families),
            "trials_per_family": n_trials,
            "hpo_sample_rows": settings.hpo_sample_rows,
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        profile = artifacts.data_profile(
            {"train": splits.train, "validation": splits.validation, "test": splits.test}
        )
        artifacts.write_json(profile, folder / "data_profile.json")
        (folder / "data_validation.txt").write_text(data_gate.report(verbose=True) + "\n")
        # Held-out rows with labels: what drift checks compare later batches against.
        reference = pd.concat(
            [splits.validation.assign(split="validation"), splits.test.assign(split="test")],
            ignore_index=True,
        )
        reference.to_parquet(folder / REFERENCE_ARTIFACT.rsplit("/", 1)[-1], index=False)
        mlflow.log_artifacts(str(folder), artifact_path="data")


def _register(best: FamilyResult, model_name: str, run_id: str, settings: TrainingSettings) -> str:
    """Register the best model once per (run id, family, trial); a rerun reuses the version."""
    from mlflow.exceptions import MlflowException

    candidate = f"{run_id}:{best.family}:{best.best_trial}"
    mlflow_client = registry.client(settings)
    try:
        found = mlflow_client.search_model_versions(
            f"name = '{model_name}' AND tags.`beacon.candidate` = '{candidate}'"
        )
    except MlflowException as exc:
        if not registry.is_not_found(exc):
            raise  # auth, network or server trouble is not "not registered yet"
        found = []
    if found:
        return str(found[0].version)
    version = registry.register_logged_model(
        model_name,
        best.model_uri,
        threshold=best.threshold,
        family=best.family,
        roc_auc_test=best.test["roc_auc"],
        tags={
            registry.TAG_RUN_ID: run_id,
            "beacon.candidate": candidate,
            "beacon.val_roc_auc": f"{best.valid['roc_auc']:.6f}",
            "beacon.mlflow_run": best.run_id,
        },
        settings=settings,
    )
    return str(version.version)

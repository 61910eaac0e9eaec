"""Optuna search per model family, with the study stored in PostgreSQL so a rerun resumes."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import psycopg

from services.core.locks import serial_lock
from services.mlops.metrics import classification_metrics
from services.training.families import Family

log = logging.getLogger(__name__)

OPTUNA_SCHEMA = "optuna"  # Optuna's tables stay out of Beacon's own schema
OPTUNA_INIT_LOCK = "optuna-storage-init"
# Shared studies: a worker that dies leaves a RUNNING trial; without a heartbeat for this long
# it is marked FAIL, so its slot in the trials budget is run again by another worker.
HEARTBEAT_SECONDS = 10
HEARTBEAT_GRACE_SECONDS = 45


@dataclass(frozen=True)
class TrialReport:
    """What the progress printer gets after each trial."""

    family: str
    number: int
    done: int
    total: int
    roc_auc: float | None
    best: float | None
    seconds: float
    state: str


ProgressCallback = Callable[[TrialReport], None]


def sqlalchemy_url(url: str) -> str:
    """A psycopg 3 SQLAlchemy URL from Beacon's libpq URL (keeps `?host=/socket/dir`)."""
    scheme = urlsplit(url).scheme
    if scheme.startswith("postgresql+") or scheme.startswith("postgres+"):
        return url
    if scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL (scheme {scheme!r})")
    return "postgresql+psycopg" + url[len(scheme) :]


def optuna_storage(database_url: str, *, heartbeat: bool = False) -> Any:
    """Optuna RDB storage in the `optuna` schema of Beacon's PostgreSQL database.

    `heartbeat` (for studies shared by several workers) lets a dead worker's trial be failed.
    """
    import optuna

    beat: dict[str, Any] = (
        {"heartbeat_interval": HEARTBEAT_SECONDS, "grace_period": HEARTBEAT_GRACE_SECONDS}
        if heartbeat
        else {}
    )
    # Optuna creates its tables and enum types when the storage opens, without a lock: two HPO
    # workers starting together on a fresh database both tried, and one failed on a duplicate
    # type. The first creates them under this lock; the others find them.
    with serial_lock(database_url, OPTUNA_INIT_LOCK):
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {OPTUNA_SCHEMA}")
        with warnings.catch_warnings():  # the heartbeat is "experimental" since Optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                sqlalchemy_url(database_url),
                engine_kwargs={
                    "connect_args": {"options": f"-c search_path={OPTUNA_SCHEMA}"},
                    "pool_pre_ping": True,
                },
                **beat,
            )


def study_name(model: str, run_id: str, family: str) -> str:
    """One study per (model, run id, family): rerunning with the same run id resumes it."""
    return f"{model}.{run_id}.{family}"


def completed_trials(study: Any) -> int:
    """Trials that finished (failed or pruned ones are not counted, so they are retried)."""
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


# long-function: the objective and progress callbacks close over the prepared data, the
# budget and the callbacks; as module functions they would carry eight arguments each.
def search(
    family: Family,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    storage: Any,
    name: str,
    n_trials: int,
    seed: int,
    threads: int,
    timeout: float | None = None,
    sample_rows: int = 0,
    log_trial: Callable[[int, dict[str, Any], dict[str, float]], None] | None = None,
    progress: ProgressCallback | None = None,
    worker: int | None = None,
) -> Any:
    """Top the study `name` up to `n_trials` completed trials; return the study.

    `data` is the already transformed (X_train, y_train, X_valid, y_valid): the feature
    pipeline is not tuned, so it is fitted once rather than per trial. Each trial fits on
    train (at most `sample_rows` rows when > 0) and is scored by ROC AUC on validation.

    `worker` (0-based) marks a search shared by several workers on the same study: each
    samples with its own seed, and a trial that would exceed the budget (`n_trials` completed
    or running trials numbered before it) is pruned unrun, so the workers together run the
    same number of trials one search would.
    """
    import optuna
    from optuna.samplers import TPESampler
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    x_train, y_train, x_valid, y_valid = data
    if 0 < sample_rows < len(y_train):
        # Stratified-enough: a seeded random subset keeps the 11 % base rate within noise.
        pick = np.random.default_rng(seed).choice(len(y_train), sample_rows, replace=False)
        x_train, y_train = x_train[pick], y_train[pick]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study = optuna.create_study(
            study_name=name,
            storage=storage,
            direction="maximize",
            # Workers draw different points; worker 0 draws what a lone search would.
            sampler=TPESampler(
                seed=seed + (worker or 0), n_startup_trials=min(10, max(2, n_trials // 3))
            ),
            load_if_exists=True,
        )
    already = completed_trials(study)
    remaining = max(0, n_trials - already)
    log.info(
        "hyperparameter search",
        extra={"study": name, "completed": already, "to_run": remaining},
    )
    if remaining == 0:
        return study

    def objective(trial: Any) -> float:
        if worker is not None:
            _claim_budget(trial, n_trials, worker)
        started = time.perf_counter()
        estimator = family.suggest(trial, seed, threads)
        estimator.fit(x_train, y_train)
        scores = estimator.predict_proba(x_valid)[:, 1]
        metrics = classification_metrics(y_valid, scores)
        trial.set_user_attr("pr_auc", metrics["pr_auc"])
        trial.set_user_attr("brier", metrics["brier"])
        trial.set_user_attr("seconds", round(time.perf_counter() - started, 3))
        if worker is not None:  # worker 0 logs the other workers' trials to MLflow from these
            trial.set_user_attr("metrics", {k: float(v) for k, v in metrics.items()})
        if log_trial is not None:
            log_trial(trial.number, dict(trial.params), metrics)
        return metrics["roc_auc"]

    def report(study: Any, trial: Any) -> None:
        if progress is None:
            return
        best = None
        with suppress(ValueError):  # no completed trial yet
            best = study.best_value
        progress(
            TrialReport(
                family=family.name,
                number=trial.number,
                done=completed_trials(study),
                total=n_trials,
                roc_auc=trial.value,
                best=best,
                seconds=float(trial.user_attrs.get("seconds", 0.0)),
                state=trial.state.name,
            )
        )

    study.optimize(
        objective,
        n_trials=remaining,
        timeout=timeout,
        # Several workers may share a study: stop once the study as a whole has enough.
        callbacks=[MaxTrialsCallback(n_trials, states=(TrialState.COMPLETE,)), _stop_over, report],
        catch=(ValueError, ArithmeticError),
        gc_after_trial=False,
    )
    return study


def _claim_budget(trial: Any, n_trials: int, worker: int) -> None:
    """Prune `trial` unrun when earlier trials (done or running) already fill the budget.

    Trial numbers are handed out by the storage in one sequence, so every worker agrees on
    which trials are inside the budget; a failed trial frees its slot for a later one.
    """
    import optuna
    from optuna.trial import TrialState

    trial.set_user_attr("worker", worker)
    earlier = [
        t
        for t in trial.study.get_trials(
            deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING)
        )
        if t.number < trial.number
    ]
    if len(earlier) >= n_trials:
        trial.set_user_attr("over_budget", True)
        raise optuna.TrialPruned("the trials budget is taken by other workers")


def _stop_over(study: Any, trial: Any) -> None:
    """Stop this worker once it drew a trial past the budget (others are finishing it)."""
    if trial.user_attrs.get("over_budget"):
        study.stop()


def settle(
    study: Any,
    n_trials: int,
    *,
    top_up: Callable[[], Any],
    poll_seconds: float = 1.0,
) -> Any:
    """Wait until no trial of a shared study runs, then top it up if a worker died; return it.

    A dead worker's RUNNING trial is failed once its heartbeat is older than the grace period;
    `top_up` (a search on the same study) then runs the trials it left out.
    """
    from optuna.storages import fail_stale_trials
    from optuna.trial import TrialState

    while True:
        fail_stale_trials(study)
        if study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            time.sleep(poll_seconds)
            continue
        if completed_trials(study) >= n_trials:
            return study
        study = top_up()

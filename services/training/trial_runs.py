"""Logging, under a family run, the Optuna trials that other HPO workers ran."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def log_other_trials(
    study: Any,
    experiment_id: str,
    family: str,
    log_trial: Callable[[int, dict[str, Any], dict[str, float]], None],
) -> int:
    """Log, under the active family run, the completed trials other workers ran; returns how many.

    Trials already logged (a resumed run) are skipped, so each trial has one MLflow run.
    """
    import mlflow

    parent = mlflow.active_run()
    assert parent is not None, "called inside the family run"
    logged = mlflow.search_runs(
        [experiment_id],
        filter_string=(
            f"tags.`beacon.kind` = 'trial' AND tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
        ),
        output_format="list",
    )
    seen = {run.data.tags.get("beacon.trial") for run in logged}
    count = 0
    for trial in study.get_trials(deepcopy=False):
        metrics = trial.user_attrs.get("metrics")
        if trial.state.name != "COMPLETE" or not metrics or str(trial.number) in seen:
            continue
        log_trial(trial.number, dict(trial.params), dict(metrics))
        count += 1
    return count

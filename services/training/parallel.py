"""Parallel HPO: N workers share each family's Optuna study; worker 0 alone refits and registers.

Worker 0 is the ordinary training job run with `worker=Shard(0, N)`; workers 1..N-1 run
`search_worker`, which only adds trials to the same PostgreSQL-backed studies. The trials
budget is shared (hpo.search prunes a trial past it), so N workers run the trials one process
would, and worker 0 refits on the union of trials once none is left running.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from services.core.shards import Shard
from services.training.families import FAMILIES, parse_families
from services.training.features import build_preprocessor
from services.training.hpo import ProgressCallback, optuna_storage, search, study_name
from services.training.informative import uninformative_columns
from services.training.readmission_schema import FEATURE_COLUMNS, TARGET_COLUMN, to_target
from services.training.readmission_splits import split_readmission
from services.training.settings import TrainingSettings

Say = Callable[[str], None]


def search_worker(
    settings: TrainingSettings,
    *,
    database_url: str,
    frame: pd.DataFrame,
    run_id: str,
    worker: Shard,
    families: list[str] | None = None,
    trials: int | None = None,
    model_name: str = "readmission",
    say: Say = lambda _: None,
    on_trial: ProgressCallback | None = None,
) -> Any:
    """Worker I > 0 of N: the data gate, then trials on each family's shared study; no MLflow.

    Returns a TrainingOutcome holding the data gate only (the refit belongs to worker 0).
    """
    from threadpoolctl import threadpool_limits

    from services.training.train import TrainingOutcome, family_threads, held_out_data_gate

    outcome = TrainingOutcome(run_id=run_id)
    names = families or parse_families(settings.hpo_families)
    n_trials = trials or settings.hpo_trials
    splits = split_readmission(frame, initial_share=settings.initial_share, seed=settings.seed)
    outcome.dropped_columns = uninformative_columns(splits.train)
    # The same gate worker 0 runs: a batch it refuses is not worth searching either.
    gate = held_out_data_gate(splits, settings, outcome.dropped_columns)
    outcome.gates.append(gate)
    if not gate.passed:
        say(gate.report())
        return outcome
    preprocessor = build_preprocessor(drop=outcome.dropped_columns)
    data = (
        preprocessor.fit_transform(splits.train[FEATURE_COLUMNS]),
        to_target(splits.train[TARGET_COLUMN]),
        preprocessor.transform(splits.validation[FEATURE_COLUMNS]),
        to_target(splits.validation[TARGET_COLUMN]),
    )
    storage = optuna_storage(database_url, heartbeat=True)
    try:
        for name in names:
            family = FAMILIES[name]
            threads = settings.train_threads or family_threads(family)
            with threadpool_limits(threads):
                study = search(
                    family,
                    data,
                    storage=storage,
                    name=study_name(model_name, run_id, name),
                    n_trials=n_trials,
                    seed=settings.seed,
                    threads=threads,
                    timeout=settings.hpo_timeout_seconds,
                    sample_rows=settings.hpo_sample_rows,
                    progress=on_trial,
                    worker=worker.index,
                )
            mine = sum(
                1
                for t in study.get_trials(deepcopy=False)
                if t.state.name == "COMPLETE" and t.user_attrs.get("worker") == worker.index
            )
            say(f"[{name}] worker {worker}: ran {mine} of the study's {n_trials} trials")
    finally:
        storage.engine.dispose()
    return outcome


def spawn_local_workers(arguments: Sequence[str], count: int) -> list[subprocess.Popen[bytes]]:
    """Start workers 1..count-1 of `beacon train readmission <arguments>` as processes.

    Their progress goes to this process's stderr; the caller runs worker 0 itself.
    """
    command = [sys.executable, "-m", "services.cli", "train", "readmission", *arguments]
    return [
        # The project's own CLI, no shell.
        subprocess.Popen([*command, "--worker", f"{index}/{count}"], stdout=subprocess.DEVNULL)
        for index in range(1, count)
    ]

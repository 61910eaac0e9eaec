"""Parallel HPO: workers share one study and budget; one refit, one registration, best of all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from services.training.families import FAMILIES
from services.training.hpo import completed_trials, optuna_storage, search, study_name
from tests.helpers import cli_env


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] + rng.normal(size=400) > 1.0).astype(int)
    return x[:300], y[:300], x[300:], y[300:]


# study.ask() below stands in for another worker's running trial, outside optimize().
@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_workers_on_one_study_keep_the_budget_and_prune_past_it(database_url: str, data) -> None:
    storage = optuna_storage(database_url, heartbeat=True)
    name = study_name("readmission", "budget", "logreg")
    args = dict(storage=storage, name=name, n_trials=5, seed=1, threads=1)
    search(FAMILIES["logreg"], data, **args, worker=1)
    # A second worker arriving late finds the budget spent and runs nothing.
    ran: list[int] = []
    study = search(
        FAMILIES["logreg"], data, **args, worker=0, log_trial=lambda n, p, m: ran.append(n)
    )
    assert ran == [] and completed_trials(study) == 5
    assert {t.user_attrs["worker"] for t in study.trials} == {1}
    study = search(FAMILIES["logreg"], data, **{**args, "n_trials": 6}, worker=0)
    assert completed_trials(study) == 6 and "metrics" in study.trials[-1].user_attrs
    # Another worker holds the last slot of a budget of 7 (its trial is running): this
    # worker's next trial is past the budget, so it is pruned unrun and the worker stops.
    other = study.ask()
    study = search(
        FAMILIES["logreg"], data, **{**args, "n_trials": 7}, worker=0,
        log_trial=lambda n, p, m: ran.append(n),
    )  # fmt: skip
    assert ran == [] and study.trials[-1].state.name == "PRUNED"
    assert study.trials[-1].user_attrs["over_budget"] is True
    study.tell(other, 0.5)
    assert completed_trials(study) == 7


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow  # two worker processes and a fresh MLflow store: about a minute
def test_two_workers_register_once_the_best_of_the_union(database_url, tmp_path: Path) -> None:
    import optuna

    from services.mlops import registry
    from services.training.settings import TrainingSettings

    home = tmp_path / "home"
    env = cli_env(database_url, home, BEACON_READMISSION_ROWS="8000", BEACON_INITIAL_SHARE="0.5")
    bad = _run(["train", "readmission", "--worker", "1/2"], env)
    assert bad.returncode == 2 and "--run-id" in bad.stderr, bad.stderr[-1000:]
    bad = _run(["train", "readmission", "--worker", "2/2", "--run-id", "x"], env)
    assert bad.returncode == 2 and "--worker" in bad.stderr, bad.stderr[-1000:]

    args = ["train", "readmission", "--trials", "8", "--families", "logreg", "--run-id", "par-1"]
    done = _run([*args, "--workers", "2"], env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "promoted version 1 to champion" in done.stdout
    assert "warning" not in done.stderr

    study = optuna.load_study(
        study_name=study_name("readmission", "par-1", "logreg"),
        storage=optuna_storage(database_url),
    )
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(complete) == 8, [t.state.name for t in study.trials]  # the budget, not more
    by_worker = {w: sum(t.user_attrs["worker"] == w for t in complete) for w in (0, 1)}
    assert by_worker[1] > 0, by_worker  # the second process did run trials

    settings = TrainingSettings(home=home, mlflow_tracking_uri=None, _env_file=None)
    versions = registry.list_models("readmission", settings)
    assert [v.version for v in versions] == ["1"]  # one registration, by worker 0
    client = registry.client(settings)
    version = client.get_model_version("readmission", "1")
    params = client.get_run(version.run_id).data.params
    best = max(complete, key=lambda t: t.value)
    assert {k: params[f"best_{k}"] for k in best.params} == {
        k: str(v) for k, v in best.params.items()
    }
    # Every trial of the union has one MLflow run under the family run, whoever ran it.
    trial_runs = client.search_runs(
        [client.get_run(version.run_id).info.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{version.run_id}'",
    )
    assert sorted(int(r.data.tags["beacon.trial"]) for r in trial_runs) == sorted(
        t.number for t in complete
    )


def test_workers_opening_the_storage_at_once_on_a_fresh_database_all_succeed(
    database_url: str,
) -> None:
    """Optuna creates its tables and types on first open; concurrent first opens must not fail."""
    import threading

    start, errors, opened = threading.Barrier(4), [], []

    def open_storage() -> None:
        start.wait()
        try:
            storage = optuna_storage(database_url)
            opened.append(storage.get_all_studies())
            storage.engine.dispose()
        except Exception as error:  # the test reports whatever a worker hit
            errors.append(repr(error)[:300])

    workers = [threading.Thread(target=open_storage) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == [] and len(opened) == 4

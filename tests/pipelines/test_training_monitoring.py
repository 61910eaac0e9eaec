"""training_pipeline and monitoring_retraining on real Airflow, a real MLflow store and real data.

One Beacon home for the module: the training run promotes the champion whose reference data
the monitoring runs then compare a clean and a drifted batch with.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pipelines_support import dag_test, last_json, run_airflow

from tests.helpers import embedded_home

TRAIN_DATE = "2026-11-22T03:00:00"  # a Sunday run: partition 20261122T0300
PARTITION = "20261122T0300"
SMALL = {
    "BEACON_READMISSION_ROWS": "8000",
    "BEACON_INITIAL_SHARE": "0.5",
    "BEACON_HPO_TRIALS": "2",
    "BEACON_HPO_FAMILIES": "logreg",
    "BEACON_TRAIN_THREADS": "1",
}
STAGES = ["ingest", "validate_data", "train_hpo", "register_challenger", "promote", "notify"]


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    with embedded_home() as path:
        yield path


@pytest.fixture(scope="module")
def training_run(home: Path) -> tuple[dict, str]:
    return dag_test("training_pipeline", home, TRAIN_DATE, **SMALL)


@pytest.fixture
def registry_settings(home: Path, monkeypatch: pytest.MonkeyPatch):
    """Training settings on the module home's local MLflow store."""
    from services.training.settings import TrainingSettings

    for name in ("MLFLOW_TRACKING_URI", "BEACON_MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    return TrainingSettings(home=home)


def test_training_pipeline_runs_every_stage_and_promotes_a_champion(
    training_run: tuple[dict, str], home: Path, registry_settings
) -> None:
    from services.mlops import registry

    summary, output = training_run
    assert summary["state"] == "success", output[-5000:]
    assert summary["tasks"] == dict.fromkeys(STAGES, "success")
    snapshot = home / "storage" / "training" / "readmission" / PARTITION / "diabetic_data.csv"
    assert snapshot.stat().st_size > 100_000  # 8,000 generated encounters
    # Each stage's verdict shows in its task's log.
    assert "[PASS] data validation" in output
    assert "[PASS] performance floor" in output
    assert "registered readmission version 1" in output
    assert "[PASS] champion/challenger" in output
    champion = registry.alias_version("readmission", registry.CHAMPION, registry_settings)
    assert champion is not None
    assert champion.tags[registry.TAG_RUN_ID] == PARTITION


def test_a_rerun_of_the_partition_keeps_its_snapshot_and_champion(
    training_run: tuple[dict, str], home: Path, registry_settings
) -> None:
    """Clearing the run: ingest keeps the frozen data, promotion finds nothing to move."""
    from services.mlops import registry

    assert training_run[0]["state"] == "success"
    done = run_airflow(
        ["test", "training_pipeline", "--logical-date", TRAIN_DATE,
         "--mark-success", "validate_data|train_hpo|register_challenger"],
        home, **SMALL,
    )  # fmt: skip
    output = done.stdout + done.stderr
    summary = last_json(done.stdout)
    assert summary["state"] == "success", output[-4000:]
    assert f"snapshot of run {PARTITION} (existing snapshot, kept)" in output
    assert "readmission: version 1 already is the champion" in output
    versions = registry.list_models("readmission", registry_settings)
    assert [(v.version, v.aliases) for v in versions] == [("1", ["challenger", "champion"])]


def _write_batch(home: Path, day: str, *, drifted: bool) -> None:
    from services.training.readmission_io import write_readmission_csv
    from services.training.readmission_splits import split_readmission
    from services.training.readmission_synthetic import generate_readmission

    rows, seed = int(SMALL["BEACON_READMISSION_ROWS"]), 42
    if drifted:
        frame = generate_readmission(rows, seed=seed, drift_start=0.0, drift_strength=2.0)
    else:
        frame = generate_readmission(rows, seed=seed)
    splits = split_readmission(frame, initial_share=float(SMALL["BEACON_INITIAL_SHARE"]), seed=seed)
    batch = splits.future_batches(4)[-1 if drifted else 0]
    target = home / "storage" / "incoming" / "readmission" / f"dt={day}" / "encounters.csv"
    write_readmission_csv(batch, target)


@pytest.mark.parametrize(
    ("day", "drifted", "chosen", "skipped"),
    [
        ("2026-11-23", False, "no_drift", "trigger_training"),
        ("2026-11-24", True, "trigger_training", "no_drift"),
    ],
    ids=["clean-batch", "drifted-batch"],
)
def test_monitoring_branches_on_the_batch_drift_verdict(
    training_run: tuple[dict, str],
    home: Path,
    day: str,
    drifted: bool,
    chosen: str,
    skipped: str,
) -> None:
    import json

    assert training_run[0]["state"] == "success"
    _write_batch(home, day, drifted=drifted)
    logical = f"{day[:-2]}{int(day[-2:]) + 1:02d}T04:00:00"  # the run that covers `day`
    # The trigger is marked done rather than run: dag.test has no scheduler to run the
    # triggered training_pipeline run it would wait for (its own test is above).
    done = run_airflow(
        ["test", "monitoring_retraining", "--logical-date", logical,
         "--mark-success", "trigger_training"],
        home, **SMALL,
    )  # fmt: skip
    output = done.stdout + done.stderr
    summary = last_json(done.stdout)
    assert summary["state"] == "success", output[-5000:]
    tasks = summary["tasks"]
    assert tasks["drift_batch"] == "success"
    assert tasks["drift_live"] == "success" and tasks["live_check_passed"] == "success"
    assert tasks["decide"] == "success"
    assert tasks[chosen] == "success" and tasks[skipped] == "skipped"
    assert tasks["notify"] == "success"
    report = home / "storage" / "reports" / "drift" / "readmission" / f"batch-{day}"
    verdict = json.loads((report / "summary.json").read_text())
    assert verdict["retrain_recommended"] is drifted
    assert (report / "report.html").stat().st_size > 1000


def test_monitoring_on_a_quiet_day_succeeds_and_does_not_retrain() -> None:
    """No batch file and no traffic (a fresh home, as `make pipeline` on the default home):
    a quiet day, as the nightly refresh treats one, not a page to someone every morning."""
    import json
    import os

    from pipelines_support import DAGS, REPO

    day = "2026-11-25"
    # The tasks' `beacon` must be this checkout's, whichever one the venv was installed from.
    path = f"{DAGS}{os.pathsep}{REPO}"
    with embedded_home() as home:
        done = run_airflow(
            ["test", "monitoring_retraining", "--logical-date", "2026-11-26T04:00:00"],
            home, PYTHONPATH=path, **SMALL,
        )  # fmt: skip
        output = done.stdout + done.stderr
        summary = last_json(done.stdout)
        assert summary["state"] == "success", output[-5000:]
        tasks = summary["tasks"]
        assert tasks["drift_batch"] == "success" and tasks["drift_live"] == "success"
        assert tasks["live_check_passed"] == "success"
        assert tasks["no_drift"] == "success" and tasks["trigger_training"] == "skipped"
        report = home / "storage" / "reports" / "drift" / "readmission" / f"batch-{day}"
        verdict = json.loads((report / "summary.json").read_text())
        assert verdict["skipped"] is True and verdict["retrain_recommended"] is False
        assert "a quiet day" in verdict["reasons"][0]


def test_a_failing_live_check_fails_the_run_but_the_batch_still_decides() -> None:
    """A live check that fails (here: a window it refuses) is not a green run; the batch
    verdict is still read and notified."""
    import os

    from pipelines_support import DAGS, REPO

    path = f"{DAGS}{os.pathsep}{REPO}"
    with embedded_home() as home:
        summary, output = dag_test(
            "monitoring_retraining",
            home,
            "2026-11-26T04:00:00",
            {"live_since": "yesterday"},
            PYTHONPATH=path,
            **SMALL,
        )
    tasks = summary["tasks"]
    assert tasks["drift_live"] == "failed", output[-5000:]
    assert tasks["live_check_passed"] == "upstream_failed"
    assert tasks["drift_batch"] == "success" and tasks["decide"] == "success"
    assert tasks["no_drift"] == "success" and tasks["notify"] == "success"
    assert summary["state"] == "failed"

"""The API logs every readmission prediction off the request path; live drift checks read it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.cli import app as cli
from services.core.database import Database
from services.serving.app import create_app
from services.serving.prediction_log import PredictionLog
from services.serving.settings import ServingSettings
from services.training.readmission_schema import FEATURE_COLUMNS
from tests.services.drift.test_drift_cli import _env

ROWS = 300


@pytest.fixture(scope="module")
def log_db(drift_database_url: str) -> Iterator[Database]:
    database = Database(drift_database_url, min_size=1, max_size=4)
    yield database
    database.close()


@pytest.fixture(scope="module")
def api(drift_settings, champion, log_db, encoder) -> Iterator[TestClient]:
    # The champion's store, named: a module run earlier in this process (any order under
    # xdist) may have exported another store as MLFLOW_TRACKING_URI, which settings would read.
    settings = ServingSettings(
        home=drift_settings.home,
        mlflow_tracking_uri=drift_settings.mlflow_tracking_uri,
        model_poll_seconds=3600,
        prediction_log_flush_seconds=0.2,
    )
    with TestClient(create_app(settings, database=log_db, encoder=encoder)) as client:
        yield client


def _records(n: int) -> list[dict]:
    from services.training.readmission_synthetic import generate_readmission

    return generate_readmission(n, seed=123)[FEATURE_COLUMNS].to_dict(orient="records")


def _logged(db: Database) -> list[tuple]:
    with db.connection() as conn:
        return conn.execute(
            "SELECT model_name, model_version, features, score FROM prediction_log ORDER BY id"
        ).fetchall()


def _wait_for_rows(db: Database, n: int, seconds: float = 15.0) -> list[tuple]:
    deadline = time.monotonic() + seconds
    rows = _logged(db)
    while len(rows) < n and time.monotonic() < deadline:
        time.sleep(0.1)
        rows = _logged(db)
    return rows


def _metric(client: TestClient, outcome: str) -> float:
    text = client.get("/metrics").text
    prefix = f'beacon_prediction_log_records_total{{outcome="{outcome}"}} '
    line = next((ln for ln in text.splitlines() if ln.startswith(prefix)), None)
    return float(line.split()[-1]) if line else 0.0


def test_predictions_are_logged_de_identified(api, log_db, champion):
    records = _records(ROWS)
    response = api.post("/v1/predict/readmission", json={"records": records})
    assert response.status_code == 200, response.text
    served = [p["probability"] for p in response.json()["predictions"]]

    rows = _wait_for_rows(log_db, ROWS)
    assert len(rows) == ROWS
    assert {(name, version) for name, version, _, _ in rows} == {("readmission", champion.version)}
    for _, _, features, _ in rows:
        assert sorted(features) == sorted(FEATURE_COLUMNS)  # no patient or encounter ids
    assert [r[2]["age"] for r in rows] == [r["age"] for r in records]
    np.testing.assert_allclose([r[3] for r in rows], served, atol=1e-6)
    assert _metric(api, "written") >= ROWS


def test_live_check_reads_the_logged_predictions(api, log_db, drift_settings, tmp_path: Path):
    if len(_logged(log_db)) < ROWS:  # run alone: log some traffic first
        api.post("/v1/predict/readmission", json={"records": _records(ROWS)})
        _wait_for_rows(log_db, ROWS)
    out = tmp_path / "live"
    result = CliRunner().invoke(
        cli,
        ["drift", "check", "--live", "--since", "1h", "--out", str(out), "--exit-zero"],
        env=_env(drift_settings),
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["label"].startswith("live-")
    assert summary["rows"]["current"] >= ROWS
    assert summary["concept_drift"] is None  # live traffic carries no labels
    logged_mean = float(np.mean([r[3] for r in _logged(log_db)]))
    assert summary["prediction_drift"]["mean_current"] == pytest.approx(logged_mean, abs=1e-4)


def test_a_database_outage_drops_log_rows_but_never_fails_requests(api):
    context = api.app.state.context
    healthy = context.prediction_log
    dead = Database("postgresql://beacon@127.0.0.1:9/none", min_size=0, timeout=1.0)
    context.prediction_log = PredictionLog(dead, context.metrics, max_queue=1000, flush_seconds=0.1)
    before = _metric(api, "dropped_database_error")
    try:
        for _ in range(3):
            response = api.post("/v1/predict/readmission", json={"records": _records(20)})
            assert response.status_code == 200, response.text
    finally:
        context.prediction_log.close()  # flushes: the writes fail and are counted
        context.prediction_log = healthy
        dead.close()
    assert _metric(api, "dropped_database_error") - before == 60


def test_a_full_queue_drops_and_counts_without_blocking(api):
    context = api.app.state.context
    dead = Database("postgresql://beacon@127.0.0.1:9/none", min_size=0, timeout=1.0)
    log = PredictionLog(dead, context.metrics, max_queue=100, flush_seconds=30)
    before = _metric(api, "dropped_queue_full")
    for _ in range(150):  # the writer waits 30 s to batch: the queue (100 items) fills up
        log.record("readmission", "1", [{"age": "[70-80)"}], np.array([0.5]))
    # Enqueueing never waits for the writer: a blocking record() would have waited for room
    # instead of dropping (the writer sits in its 30 s batch window, so no room comes).
    # (How long enqueueing takes is a figure of bench/bench_generators.py, not a test.)
    assert _metric(api, "dropped_queue_full") - before == 50
    log.close()
    dead.close()


def test_live_check_without_enough_traffic_is_skipped_not_failed(drift_settings, tmp_path: Path):
    out = tmp_path / "quiet"
    env = _env(drift_settings, BEACON_DRIFT_MIN_ROWS="100000")
    result = CliRunner().invoke(
        cli, ["drift", "check", "--live", "--since", "1h", "--out", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    assert "nothing to check" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["skipped"] is True and summary["retrain_recommended"] is False


def test_live_window_ends_at_until(api, log_db, drift_settings, tmp_path: Path):
    if len(_logged(log_db)) < ROWS:
        api.post("/v1/predict/readmission", json={"records": _records(ROWS)})
        _wait_for_rows(log_db, ROWS)
    out = tmp_path / "past"
    result = CliRunner().invoke(
        cli,
        ["drift", "check", "--live", "--since", "7d", "--until", "2020-01-01T00:00:00",
         "--out", str(out)],
        env=_env(drift_settings),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["skipped"] is True and summary["rows"]["current"] == 0
    assert summary["label"] == "live-20200101T0000"

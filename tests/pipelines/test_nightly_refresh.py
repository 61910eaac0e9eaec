"""nightly_embedding_refresh on real Airflow: the day's new postings become searchable."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pipelines_support import BEACON_CLI, airflow_env, dag_test

from tests.helpers import embedded_home

DAY = "2026-11-20"  # data_interval_start of the run scheduled at 2026-11-21 02:00 UTC
NEW_POSTING = {
    "job_id": "job-nightly-0001",
    "title": "Underwater Welding Instructor",
    "company": "Tidewater Offshore",
    "location": "Aberdeen, United Kingdom",
    "remote": False,
    "seniority": "senior",
    "role_family": "operations",
    "skills": ["underwater welding", "diving", "teaching", "offshore safety"],
    "salary_min": 60000,
    "salary_max": 80000,
    "description": (
        "Teach commercial divers wet welding and cutting on offshore wind foundations. You "
        "will run hyperbaric welding trials, certify divers, and write dive safety plans."
    ),
    "posted_at": DAY,
}


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    with embedded_home() as path:
        yield path


@pytest.fixture(scope="module")
def nightly_run(home: Path) -> tuple[dict, str]:
    """An already loaded corpus, then the day's partition with one new posting, via the DAG."""
    env = airflow_env(home)
    partition = home / "storage" / "incoming" / "jobs" / f"dt={DAY}"
    # Yesterday's state: 30 postings already in the database (not yet embedded).
    subprocess.run(
        [str(BEACON_CLI), "data", "generate", "--postings", "30", "--resumes", "5"],
        env=env, cwd=home, check=True, capture_output=True,
    )  # fmt: skip
    partition.mkdir(parents=True)
    (partition / "postings.jsonl").write_text(json.dumps(NEW_POSTING) + "\n")
    return dag_test("nightly_embedding_refresh", home, "2026-11-21T02:00:00")


def test_the_check_fails_while_documents_lack_vectors() -> None:
    """The gate the DAG runs after a refresh says no (exit 1) before one has run."""
    with embedded_home() as home:
        env = airflow_env(home)
        subprocess.run(
            [str(BEACON_CLI), "data", "generate", "--postings", "12", "--resumes", "2"],
            env=env, cwd=home, check=True, capture_output=True,
        )  # fmt: skip
        done = subprocess.run(
            [str(BEACON_CLI), "embed", "check"], env=env, cwd=home, capture_output=True, text=True
        )
    assert done.returncode == 1
    assert "postings: 12 of 12 rows have no embedding" in done.stderr
    assert json.loads(done.stdout)["passed"] is False


def test_the_run_succeeds_task_by_task(nightly_run: tuple[dict, str], home: Path) -> None:
    summary, output = nightly_run
    assert summary["state"] == "success", output[-4000:]
    assert summary["tasks"] == {"refresh": "success", "check": "success", "report": "success"}
    # The partition came from data_interval_start, and the check's counts reached the log.
    assert f"--source {home}/storage/incoming/jobs/dt={DAY} --upsert-only --missing-ok" in output
    assert '"passed": true' in output
    assert "loaded postings.jsonl: UpsertStats(inserted=1" in output


def test_new_postings_are_searchable_through_the_api(
    nightly_run: tuple[dict, str], home: Path, encoder
) -> None:
    from services.core.database import Database
    from services.core.embedded import start_embedded, stop_embedded
    from services.serving.app import create_app
    from services.serving.settings import ServingSettings

    assert nightly_run[0]["state"] == "success"
    url = start_embedded(home / "pgdata", database="beacon")
    try:
        with Database(url, min_size=1, max_size=2) as db:
            settings = ServingSettings(home=home, mlflow_tracking_uri=f"sqlite:///{home}/ml.db")
            app = create_app(settings, database=db, encoder=encoder)
            with TestClient(app) as client:
                response = client.post(
                    "/v1/recommend_jobs",
                    json={"text": "teach divers underwater wet welding offshore", "top_k": 3},
                )
                status = client.get("/health")
        assert response.status_code == 200, response.text
        ids = [job["job_id"] for job in response.json()["results"]]
        assert ids[0] == NEW_POSTING["job_id"]
        assert status.status_code == 200
        with Database(url, min_size=1, max_size=1) as db, db.connection() as conn:
            rows, embedded = conn.execute(
                "SELECT count(*), count(embedding) FROM job_postings"
            ).fetchone()
        assert (rows, embedded) == (31, 31)  # the old 30 (still in place) and the new one
    finally:
        stop_embedded(home / "pgdata")

"""A database outage gives 503s, and the API recovers by itself when the database returns."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from services.core.database import Database
from services.core.embedded import restart_embedded, stop_embedded
from services.serving.app import create_app

QUERY = {"text": "Senior data engineer: spark, airflow, dbt and kafka.", "top_k": 3}


def _wait_for(client: TestClient, deadline_s: float = 30.0):
    deadline = time.monotonic() + deadline_s
    while True:
        response = client.post("/v1/recommend_jobs", json=QUERY)
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.25)


def test_database_outage_is_503_then_recovers(pg_home, database_url, serving_settings, encoder):
    # Its own fresh database and pool: the session corpus pool must not see the outage.
    database = Database(database_url, min_size=1, max_size=2, timeout=1.0)
    pgdata = pg_home / "pgdata"
    try:
        with TestClient(create_app(serving_settings, database=database, encoder=encoder)) as api:
            assert api.post("/v1/recommend_jobs", json=QUERY).status_code == 200
            try:
                stop_embedded(pgdata)
                down = api.post("/v1/recommend_jobs", json=QUERY)
                assert down.status_code == 503
                assert down.json() == {"detail": "database unavailable"}
                assert down.headers["retry-after"] == "5"
                ready = api.get("/ready")
                assert ready.status_code == 503
                assert ready.json()["reason"] == "database unavailable"
                assert api.get("/health").status_code == 200  # alive, just not ready
                assert "beacon_database_up 0.0" in api.get("/metrics").text
            finally:
                restart_embedded(pgdata)
            up = _wait_for(api)
            assert up.status_code == 200, up.text
            assert up.json()["results"] == []  # the fresh database holds no postings
            assert api.get("/ready").status_code == 200
    finally:
        database.close()

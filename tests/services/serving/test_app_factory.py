"""The app factory as the image and Lambda call it: `create_app()` with nothing injected.

Settings come from the environment; the lifespan opens a pool on an empty database of the
embedded server (migrating it), loads the encoder from settings, configures logging, and
closes what it opened at shutdown.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from services.core.migrations import pending
from services.serving.app import create_app
from services.serving.settings import get_serving_settings
from tests.helpers import drop_database


def pending_migrations(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return pending(conn)


@pytest.fixture
def empty_database(pg_admin_url: str) -> Iterator[str]:
    """A database with nothing in it: no extension, no table, no migration."""
    name = "factory_empty"
    drop_database(pg_admin_url, name)
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield pg_admin_url.replace("/postgres?", f"/{name}?")
    drop_database(pg_admin_url, name)


@pytest.fixture
def environment(
    empty_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Environment settings only, as in the image; logging is restored afterwards."""
    monkeypatch.setenv("DATABASE_URL", empty_database)
    monkeypatch.setenv("BEACON_HOME", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("BEACON_ENV", "test")
    monkeypatch.setenv("BEACON_LOG_FORMAT", "json")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    get_serving_settings.cache_clear()
    yield
    get_serving_settings.cache_clear()
    root.handlers[:], root.level = handlers, level


def test_create_app_with_nothing_injected_opens_migrates_serves_and_closes(
    environment: None, empty_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pending_migrations(empty_database)  # nothing applied yet
    app = create_app()
    with TestClient(app) as client:
        context = app.state.context
        assert not pending_migrations(empty_database)  # the lifespan migrated it
        ready = client.get("/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["model"] == context.encoder.identity
        assert context.db in context.owned  # opened here, so closed here
        response = client.post("/v1/recommend_jobs", json={"resume_id": "res-000001"})
        assert response.status_code == 404 and "res-000001" in response.json()["detail"]
        pool = context.db.pool
    assert pool.closed
    assert context.owned == []
    # create_app() configured JSON logging on stderr from the settings.
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    ready_line = next(line for line in lines if line["message"] == "api ready to serve")
    assert ready_line["env"] == "test" and ready_line["model"] == context.encoder.identity

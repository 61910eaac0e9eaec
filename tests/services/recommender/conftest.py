"""Fixtures of the events workload: a small generated dataset stored, embedded and trained once
per session (real PostgreSQL + pgvector, real encoder, real implicit ALS, real MLflow store)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from services.core.database import Database
from services.core.migrations import migrate
from services.recommender.data import EventsData, generate_events_data
from services.recommender.settings import RecommenderSettings
from tests.helpers import drop_database

#: Small enough to embed in a few seconds, large enough for stable offline metrics.
USERS, EVENTS, SEED = 800, 200, 3
ADMIN_KEY = "test-admin-key"


@pytest.fixture(scope="session")
def events_data() -> EventsData:
    """The session's generated users, events and interactions."""
    return generate_events_data(USERS, EVENTS, seed=SEED)


def load_events(db: Database, data: EventsData, encoder) -> None:
    """Store `data` and embed its events (what `beacon events generate` does)."""
    from services.recommender.store import (
        embed_events,
        insert_interactions,
        upsert_events,
        upsert_users,
    )

    with db.connection() as conn:
        upsert_users(conn, data.users)
        upsert_events(conn, data.events)
        insert_interactions(conn, data.interactions)
    embed_events(db, encoder)


def _recreate(admin_url: str, name: str) -> str:
    drop_database(admin_url, name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = admin_url.replace("/postgres?", f"/{name}?")
    migrate(url)
    return url


@pytest.fixture(scope="session")
def events_template_url(pg_admin_url: str, events_data: EventsData, encoder) -> str:
    """A database holding the session data, embedded once; tests copy it, never write to it."""
    url = _recreate(pg_admin_url, "events_template")
    with Database(url, min_size=1, max_size=2) as db:
        load_events(db, events_data, encoder)
    return url


@pytest.fixture
def events_db(pg_admin_url: str, events_template_url: str) -> Iterator[Database]:
    """A private copy of the embedded session data for one test (a template copy: ~0.2 s)."""
    name, db = copy_template(pg_admin_url, "ev")
    yield db
    db.close()
    drop_database(pg_admin_url, name)


def copy_template(admin_url: str, prefix: str) -> tuple[str, Database]:
    """A new database copied from events_template, and a pool on it."""
    import uuid

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        # A template must have no other sessions: the template's pool is closed by now.
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE events_template").format(sql.Identifier(name))
        )
    return name, Database(admin_url.replace("/postgres?", f"/{name}?"), min_size=1, max_size=6)


@dataclass
class EventsHome:
    """A Beacon home with its own local MLflow store."""

    home: Path

    def settings(self, **overrides) -> RecommenderSettings:
        # mlflow.set_tracking_uri() exports MLFLOW_TRACKING_URI; settings must not inherit it.
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        uri = f"sqlite:///{self.home.resolve() / 'mlflow' / 'mlflow.db'}"
        return RecommenderSettings(home=self.home, mlflow_tracking_uri=uri, **overrides)


@pytest.fixture
def events_home() -> Iterator[EventsHome]:
    """An empty Beacon home (no MLflow store yet) for one test."""
    home = Path(tempfile.mkdtemp(prefix="beacon-events-"))
    yield EventsHome(home)
    shutil.rmtree(home, ignore_errors=True)

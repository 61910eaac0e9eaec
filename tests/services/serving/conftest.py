"""Fixtures for API tests: one app over the read-only session corpus, real database and model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.core.database import Database
from services.serving.app import create_app
from services.serving.settings import ServingSettings


@pytest.fixture(scope="session")
def serving_settings() -> ServingSettings:
    """Serving settings for tests: defaults, with a small max_top_k to test the bound."""
    return ServingSettings(max_top_k=50)


@pytest.fixture(scope="session")
def corpus_db(jobs_database_url: str) -> Iterator[Database]:
    """A pool on the session corpus database (read-only)."""
    database = Database(jobs_database_url, min_size=1, max_size=4, timeout=5.0)
    yield database
    database.close()


@pytest.fixture(scope="session")
def client(serving_settings, corpus_db, encoder) -> Iterator[TestClient]:
    """A TestClient with the lifespan run, over the session corpus."""
    app = create_app(serving_settings, database=corpus_db, encoder=encoder)
    with TestClient(app) as test_client:
        yield test_client

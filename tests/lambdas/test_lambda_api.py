"""The API on Lambda: the real app (services.serving.app:create_app) through the real handler.

Nothing is replaced: the handler builds the app from environment settings against the test
session's embedded PostgreSQL (the small embedded corpus) and the packaged encoder.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdas.api import handler as api
from services.core.database import Database
from services.serving.settings import get_serving_settings
from services.training.readmission_schema import EXAMPLE_RECORD


def rest_event(path: str, method: str = "GET", body: dict | None = None) -> dict:
    """An API Gateway REST proxy event, as the stage `api` sends it."""
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {
            "Host": "abc.execute-api.us-east-1.amazonaws.com",
            "Content-Type": "application/json",
        },
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "requestId": "r-1",
            "stage": "api",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/api{path}",
            "identity": {"sourceIp": "203.0.113.1"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


@pytest.fixture(scope="module")
def opened(jobs_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list]:
    """The handler's environment, and a record of every pool the app opens (a spy: the real
    `Database.from_settings` runs)."""
    home: Path = tmp_path_factory.mktemp("lambda-home")
    pools: list[Database] = []
    real = Database.from_settings.__func__  # type: ignore[attr-defined]

    def spy(cls: type[Database], settings: object, **kwargs: object) -> Database:
        database = real(cls, settings, **kwargs)
        pools.append(database)
        return database

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", jobs_database_url)
        mp.setenv("BEACON_HOME", str(home))
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
        mp.setenv("BEACON_ENV", "test")
        mp.setenv("BEACON_PREDICTION_LOG", "false")
        mp.setattr(Database, "from_settings", classmethod(spy))
        get_serving_settings.cache_clear()
        api.reset()
        try:
            yield pools
        finally:
            api.reset()
            get_serving_settings.cache_clear()
            root.handlers[:], root.level = handlers, level  # create_app() configured logging


def call(event: dict, context: object) -> tuple[int, dict, dict]:
    response = api.handler(event, context)
    return response["statusCode"], response["headers"], json.loads(response["body"])


def test_the_real_app_starts_once_per_container(opened: list, context: object) -> None:
    status, _, body = call(rest_event("/health"), context)
    assert (status, body) == (200, {"status": "ok"})
    container = api.get_container()
    state = container.app.state.context
    assert len(opened) == 1 and state.db is opened[0]
    for _ in range(3):  # warm invocations: no new pool, same encoder, same events runtime
        status, _, body = call(rest_event("/ready"), context)
        assert status == 200 and body["status"] == "ready"
    assert api.get_container() is container
    assert len(opened) == 1 and state.db is opened[0] and not opened[0].pool.closed
    assert container.app.state.context is state


def test_post_bodies_reach_the_app(opened: list, context: object) -> None:
    event = rest_event("/v1/recommend_jobs", "POST", {"resume_id": "res-000001", "top_k": 3})
    status, _, body = call(event, context)
    assert status == 200
    assert body["query"]["resume_id"] == "res-000001" and len(body["results"]) == 3
    status, _, body = call(rest_event("/v1/recommend_jobs", "POST", {"top_k": 0}), context)
    assert status == 422
    assert {tuple(e["loc"]) for e in body["detail"]} >= {("body", "top_k")}


def test_a_model_endpoint_without_a_champion_answers_503_with_retry_after(
    opened: list, context: object
) -> None:
    event = rest_event("/v1/predict/readmission", "POST", {"records": [EXAMPLE_RECORD]})
    status, headers, body = call(event, context)
    assert status == 503
    assert {k.lower(): v for k, v in headers.items()}["retry-after"] == "5"
    assert "readmission" in body["detail"]


def test_a_failed_startup_is_not_cached(
    opened: list, context: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.reset()
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    get_serving_settings.cache_clear()
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
        api.handler(rest_event("/health"), context)
    assert api.get_container.cache_info().currsize == 0
    monkeypatch.undo()
    get_serving_settings.cache_clear()
    status, _, _ = call(rest_event("/health"), context)
    assert status == 200

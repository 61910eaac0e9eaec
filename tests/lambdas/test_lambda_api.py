"""The API on Lambda: Mangum wraps services.serving.app:create_app."""

from __future__ import annotations

import sys
import types

import pytest
from fastapi import FastAPI

from lambdas.api import handler as api


def rest_event(path: str) -> dict:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": {"Host": "abc.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "requestId": "r-1",
            "stage": "v1",
            "resourcePath": "/{proxy+}",
            "httpMethod": "GET",
            "path": f"/v1{path}",
            "identity": {"sourceIp": "203.0.113.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.fixture
def fake_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stands in for services.serving.app so the wrapper is tested on its own."""
    module = types.ModuleType("services.serving.app")

    def create_app() -> FastAPI:
        app = FastAPI()

        @app.get("/health")
        def health() -> dict:
            return {"status": "ok"}

        return app

    module.create_app = create_app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "services.serving.app", module)
    monkeypatch.setenv("BEACON_ENV", "dev")
    api.get_adapter.cache_clear()
    yield
    api.get_adapter.cache_clear()


def test_handler_serves_the_fastapi_app(fake_app: None, context: object) -> None:
    response = api.handler(rest_event("/health"), context)
    assert response["statusCode"] == 200
    assert '"status":"ok"' in response["body"].replace(" ", "")


def test_app_is_built_once_per_container(fake_app: None, context: object) -> None:
    api.handler(rest_event("/health"), context)
    first = api.get_adapter()
    api.handler(rest_event("/health"), context)
    assert api.get_adapter() is first

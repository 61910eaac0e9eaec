"""One versioned API: /v1 routes, deprecated aliases with their headers, one error map."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest
from fastapi.testclient import TestClient

from services.core.errors import (
    BeaconError,
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    InputError,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from services.jobs.answerers import AnswerUnavailable
from services.jobs.search import NotEmbedded
from services.recommender.experiments import ExperimentExists, ExperimentNotFound
from services.serving.context import ServiceStarting
from services.serving.deprecation import ALIASES, DEPRECATED_AT, SUNSET_AT
from services.serving.model_registry.slot import NoModel

LEGACY = {
    "/recommend_jobs": "/v1/recommend_jobs",
    "/job_qa": "/v1/job_qa",
    "/classify_match": "/v1/classify_match",
    "/predict/readmission": "/v1/predict/readmission",
}


def test_every_workload_route_is_under_v1_and_each_old_path_is_a_deprecated_alias(
    client: TestClient,
) -> None:
    paths = client.app.openapi()["paths"]
    assert ALIASES == LEGACY
    for path, operations in paths.items():
        if path in ("/health", "/ready", "/metrics"):
            continue
        deprecated = {op.get("deprecated", False) for op in operations.values()}
        if path in LEGACY:
            assert deprecated == {True}, path
            assert LEGACY[path] in paths
            assert "Deprecated" in operations["post"]["description"]
        else:
            assert path.startswith("/v1/") and deprecated == {False}, path


def test_an_alias_answers_as_its_successor_with_deprecation_headers(client: TestClient) -> None:
    body = {"resume_id": "res-000001", "top_k": 3}
    new = client.post("/v1/recommend_jobs", json=body)
    old = client.post("/recommend_jobs", json=body)
    assert new.status_code == old.status_code == 200
    assert old.json() == new.json()
    assert "deprecation" not in new.headers and "sunset" not in new.headers
    assert old.headers["deprecation"] == f"@{int(DEPRECATED_AT.timestamp())}"
    assert parsedate_to_datetime(old.headers["sunset"]) == SUNSET_AT
    assert old.headers["link"] == '</v1/recommend_jobs>; rel="successor-version"'


def test_errors_from_an_alias_carry_the_headers_too(client: TestClient) -> None:
    response = client.post("/job_qa", json={"question": ""})
    assert response.status_code == 422
    assert response.headers["link"] == '</v1/job_qa>; rel="successor-version"'
    missing = client.post("/recommend_jobs", json={"resume_id": "res-999999"})
    assert missing.status_code == 404 and "sunset" in missing.headers


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InputError("x"), 422),
        (NotFound("x"), 404),
        (ExperimentNotFound("x"), 404),
        (Conflict("x"), 409),
        (NotEmbedded("x"), 409),
        (ExperimentExists("x"), 409),
        (Unauthenticated("x", challenge="X-Admin-Key"), 401),
        (Forbidden("x"), 403),
        (Unavailable("x"), 503),
        (ServiceStarting("x"), 503),
        (NoModel("x"), 503),
        (DatabaseUnavailable("postgres at 10.0.0.1 refused"), 503),
        (BeaconError("x"), 400),
    ],
)
def test_each_error_carries_its_status(error: BeaconError, status: int) -> None:
    assert error.status == status


def test_errors_that_could_name_internals_say_a_fixed_detail() -> None:
    assert DatabaseUnavailable("postgres at 10.0.0.1 refused").public_detail == (
        "database unavailable"
    )
    assert AnswerUnavailable("bedrock: ThrottlingException").public_detail == (
        "answer backend unavailable"
    )
    assert NotFound("resume_id: no resume 'x'").public_detail == "resume_id: no resume 'x'"
    assert Unauthenticated("x", challenge="X-Beacon-Client").headers == {
        "WWW-Authenticate": "X-Beacon-Client"
    }


def test_every_success_response_has_a_schema(client: TestClient) -> None:
    for path, operations in client.app.openapi()["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if not code.startswith("2") or code == "204" or path == "/metrics":
                    continue
                schema = response["content"]["application/json"]["schema"]
                assert "$ref" in schema, (method, path, code)

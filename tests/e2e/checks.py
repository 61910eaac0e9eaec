"""The smoke checks, written once and run against the local demo and against a deployed stage.

Add a check by writing one more function decorated with `@check("name")`; both test modules
pick it up. Checks use only the public API, so they hold for any data the stage has loaded.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from services.training.readmission_schema import EXAMPLE_RECORD


@dataclass(frozen=True)
class Check:
    """One named smoke check; `run` raises AssertionError when the API misbehaves."""

    name: str
    run: Callable[[httpx.Client], None]


CHECKS: list[Check] = []


def check(name: str) -> Callable[[Callable[[httpx.Client], None]], Callable[[httpx.Client], None]]:
    """Register a check under `name` (the pytest id, so `-k name` selects it)."""

    def register(function: Callable[[httpx.Client], None]) -> Callable[[httpx.Client], None]:
        CHECKS.append(Check(name, function))
        return function

    return register


def ok_json(response: httpx.Response) -> Any:
    """The JSON body of a 200 response, failing with the body otherwise."""
    where = f"{response.request.method} {response.request.url}"
    assert response.status_code == 200, f"{where}: {response.status_code} {response.text[:500]}"
    return response.json()


def validation_error_fields(response: httpx.Response) -> set[str]:
    """Field names that a 422 response blames (last element of each error location)."""
    assert response.status_code == 422, f"expected 422, got {response.status_code}: {response.text}"
    return {str(error["loc"][-1]) for error in response.json()["detail"]}


@check("health")
def health(client: httpx.Client) -> None:
    assert ok_json(client.get("/health")) == {"status": "ok"}


@check("ready")
def ready(client: httpx.Client) -> None:
    body = ok_json(client.get("/ready"))
    assert body["status"] == "ready"
    assert body["model"], "the encoder identity is reported"


@check("recommend_jobs")
def recommend_jobs(client: httpx.Client) -> None:
    body = ok_json(
        client.post(
            "/v1/recommend_jobs",
            json={"text": "senior python backend engineer, postgres, aws", "top_k": 5},
        )
    )
    results = body["results"]
    assert 1 <= len(results) <= 5
    assert all(r["job_id"].startswith("job-") and r["title"] for r in results)
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True), "results are ranked by similarity"


@check("job_qa")
def job_qa(client: httpx.Client) -> None:
    body = ok_json(
        client.post("/v1/job_qa", json={"question": "Which jobs ask for Kubernetes experience?"})
    )
    assert body["answer"].strip()
    cited = {c["job_id"] for c in body["citations"]}
    assert cited, "an answer comes with citations"
    # The answer names its sources as [job-...], and only postings it cites.
    referenced = set(re.findall(r"\[(job-[^\]]+)\]", body["answer"]))
    assert referenced, body["answer"]
    assert referenced <= cited, (referenced, cited)


@check("predict_readmission")
def predict_readmission(client: httpx.Client) -> None:
    body = ok_json(client.post("/v1/predict/readmission", json={"records": [EXAMPLE_RECORD]}))
    (prediction,) = body["predictions"]
    assert 0.0 <= prediction["probability"] <= 1.0
    assert prediction["label"] in (0, 1)
    assert body["model"]["name"] == "readmission" and body["model"]["alias"] == "champion"


@check("event_recommendations")
def event_recommendations(client: httpx.Client) -> None:
    body = ok_json(
        client.post("/v1/recommendations", json={"user_id": "e2e-smoke-user", "top_k": 5})
    )
    assert body["cold_start"] is True, "an unknown user gets the cold-start list"
    assert len(body["items"]) <= 5
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    if body["items"]:
        event_id = body["items"][0]["event_id"]
        feedback = {"recommendation_id": body["recommendation_id"], "event_id": event_id}
        response = client.post("/v1/feedback", json={**feedback, "action": "view"})
        assert response.status_code == 201, response.text
    unknown = {"recommendation_id": str(uuid.uuid4()), "event_id": "evt-1", "action": "view"}
    assert client.post("/v1/feedback", json=unknown).status_code == 404


@check("bad_input_is_422")
def bad_input(client: httpx.Client) -> None:
    assert "top_k" in validation_error_fields(
        client.post("/v1/recommend_jobs", json={"text": "python", "top_k": 0})
    )
    record = {**EXAMPLE_RECORD, "time_in_hospital": "five"}
    assert "time_in_hospital" in validation_error_fields(
        client.post("/v1/predict/readmission", json={"records": [record]})
    )

"""Health, readiness, metrics, docs, access logs and error handling of the API."""

from __future__ import annotations

import json
import logging

import numpy as np
from fastapi.testclient import TestClient
from pythonjsonlogger.json import JsonFormatter

from services.serving.app import create_app

SECRET = "Jane Roe, 12 Secret Street, jane@example.com"


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready(client, encoder):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "model": encoder.identity,
        "answer_backend": "extractive",
    }


def test_not_ready_before_startup(serving_settings, corpus_db, encoder):
    app = create_app(serving_settings, database=corpus_db, encoder=encoder)
    bare = TestClient(app)  # not entered: the lifespan has not run
    assert bare.get("/health").status_code == 200
    ready = bare.get("/ready")
    assert ready.status_code == 503
    assert ready.json() == {"status": "not_ready", "reason": "encoder not loaded"}
    response = bare.post("/v1/recommend_jobs", json={"resume_id": "res-000001"})
    assert response.status_code == 503
    assert response.json() == {"detail": "service is starting; retry shortly"}


def test_metrics_count_requests_per_route_and_status(client, jobs_corpus):
    client.get("/health")
    client.post("/v1/recommend_jobs", json={"resume_id": "res-999999"})
    client.get("/no/such/path")
    text = client.get("/metrics").text
    assert 'beacon_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert (
        'beacon_http_requests_total{method="POST",route="/v1/recommend_jobs",status="404"}' in text
    )
    assert 'beacon_http_requests_total{method="GET",route="unmatched",status="404"}' in text
    assert (
        'beacon_http_request_duration_seconds_bucket{le="0.5",method="GET",route="/health",'
        'status="200"}' in text
    )
    postings = len(jobs_corpus.postings)
    assert f'beacon_documents{{kind="postings"}} {float(postings)}' in text
    assert f'beacon_documents_embedded{{kind="postings"}} {float(postings)}' in text
    assert f'beacon_documents_embedded{{kind="resumes"}} {float(len(jobs_corpus.resumes))}' in text
    assert "beacon_database_up 1.0" in text


def test_openapi_docs(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/recommend_jobs", "/v1/job_qa", "/v1/classify_match", "/health", "/ready"} <= set(
        paths
    )


def test_one_json_access_log_line_per_request_without_bodies(client, caplog):
    caplog.set_level(logging.INFO, logger="services.serving.access")
    response = client.post(
        "/v1/recommend_jobs",
        json={"text": f"{SECRET}. Python developer.", "top_k": 2},
        headers={"x-request-id": "req-123"},
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-123"
    (record,) = [r for r in caplog.records if r.name == "services.serving.access"]
    line = JsonFormatter("%(levelname)s %(name)s %(message)s").format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["method"] == "POST" and entry["route"] == "/v1/recommend_jobs"
    assert entry["status"] == 200 and entry["request_id"] == "req-123"
    assert isinstance(entry["duration_ms"], float)
    assert "Jane" not in caplog.text and "Secret" not in caplog.text


class _FailingEncoder:
    """Stands in for a model that crashes mid-request, with personal data in its error."""

    identity = "failing"
    dimension = 384

    def encode(self, texts: list[str]) -> np.ndarray:
        raise RuntimeError(f"cannot encode {texts[0]!r}")


def test_unexpected_error_is_a_plain_500_and_logs_no_request_text(
    serving_settings, corpus_db, caplog
):
    app = create_app(serving_settings, database=corpus_db, encoder=_FailingEncoder())
    with TestClient(app) as failing:
        response = failing.post("/v1/recommend_jobs", json={"text": SECRET})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error"}
    assert "Traceback" not in response.text
    errors = [r for r in caplog.records if r.name == "services.serving.errors"]
    assert errors and errors[0].error == "RuntimeError"
    assert "search.py" in errors[0].stack  # where it failed is logged ...
    assert "Jane" not in caplog.text  # ... but not what was sent

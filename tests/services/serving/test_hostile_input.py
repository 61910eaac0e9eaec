"""Hostile input: NUL and control characters in every public field, lax types, oversize
bodies, a poisoned prediction log, database refusals. Each test names the defect it guards."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.serving.app import create_app
from services.serving.metrics import DocumentCollector, Metrics
from services.serving.prediction_log import PredictionLog
from services.training.readmission_schema import EXAMPLE_RECORD

pytestmark = pytest.mark.hostile

NUL = "a\u0000b"
BEL = "a\u0007b"
RECOMMEND = {"text": "Senior data engineer: spark, airflow, dbt and kafka.", "top_k": 3}

# (path, body with the poisoned value, location the 422 must name)
POISONED_FIELDS = [
    ("/v1/recommend_jobs", {"resume_id": NUL}, ["body", "resume_id"]),
    ("/v1/recommend_jobs", {"text": "python " + NUL}, ["body", "text"]),
    (
        "/v1/recommend_jobs",
        {**RECOMMEND, "filters": {"location": NUL}},
        ["body", "filters", "location"],
    ),
    ("/v1/job_qa", {"question": "Which jobs " + NUL}, ["body", "question"]),
    (
        "/v1/job_qa",
        {"question": "Which jobs?", "filters": {"location": BEL}},
        ["body", "filters", "location"],
    ),
    ("/v1/classify_match", {"resume_id": NUL, "job_id": "job-000001"}, ["body", "resume_id"]),
    ("/v1/classify_match", {"resume_id": "res-000001", "job_id": NUL}, ["body", "job_id"]),
    ("/v1/classify_match", {"resume_text": "x " + NUL, "job_id": "j"}, ["body", "resume_text"]),
    ("/v1/classify_match", {"resume_id": "r", "job_text": "y " + NUL}, ["body", "job_text"]),
    (
        "/v1/predict/readmission",
        {"records": [{**EXAMPLE_RECORD, "race": NUL}]},
        ["body", "records", 0, "race"],
    ),
    (
        "/v1/predict/readmission",
        {"records": [{**EXAMPLE_RECORD, "diag_1": BEL}]},
        ["body", "records", 0, "diag_1"],
    ),
    ("/v1/recommendations", {"user_id": NUL}, ["body", "user_id"]),
    ("/v1/recommendations", {"user_id": "u1", "city": NUL}, ["body", "city"]),
    (
        "/v1/feedback",
        {
            "recommendation_id": "6f1c1f53-2f4f-4a8e-9a57-0d5b8a1c1b0e",
            "event_id": NUL,
            "action": "view",
        },
        ["body", "event_id"],
    ),
]


@pytest.mark.parametrize(("path", "body", "loc"), POISONED_FIELDS)
def test_nul_or_control_character_in_any_field_is_a_422_naming_it(client, path, body, loc) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert [e["loc"] for e in errors] == [loc]
    assert "no NUL or other control characters" in errors[0]["msg"].replace("not contain", "no")
    assert "\u0000" not in response.text and "\\u0000" not in response.text  # never echoed


def test_newlines_and_tabs_in_free_text_are_fine(client) -> None:
    body = {"text": "Senior data engineer\n\tspark, airflow,\r\n dbt and kafka.", "top_k": 2}
    assert client.post("/v1/recommend_jobs", json=body).status_code == 200


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({**RECOMMEND, "top_k": "5"}, ["body", "top_k"]),
        ({**RECOMMEND, "filters": {"min_salary": False}}, ["body", "filters", "min_salary"]),
        ({**RECOMMEND, "filters": {"remote": "yes"}}, ["body", "filters", "remote"]),
        ({"resume_id": None, "text": "python developer"}, ["body", "resume_id"]),
    ],
)
def test_lax_types_are_refused(client, body, loc) -> None:
    response = client.post("/v1/recommend_jobs", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc


def test_oversize_body_is_a_413_counted_as_4xx_and_not_logged_as_error(client, caplog) -> None:
    caplog.set_level(logging.INFO)
    huge = {"text": "x" * (300 * 1024)}
    response = client.post("/v1/recommend_jobs", json=huge)
    assert response.status_code == 413
    assert response.text == "Content Too Large"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    metrics = client.get("/metrics").text
    assert 'route="/v1/recommend_jobs",status="413"' in metrics
    assert 'route="/v1/recommend_jobs",status="500"' not in metrics


def test_every_response_carries_security_headers(client) -> None:
    response = client.get("/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_405_allow_lists_every_method_of_the_path(client) -> None:
    response = client.request("PUT", "/v1/experiments")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) >= {"GET", "POST"}


def test_database_refusal_is_a_422_not_a_500(serving_settings, corpus_db, encoder, caplog) -> None:
    # The last line of defence: a value PostgreSQL refuses that no schema caught.
    app = create_app(serving_settings, database=corpus_db, encoder=encoder)

    @app.get("/refused")
    def refused() -> dict[str, str]:
        with corpus_db.connection() as conn:
            conn.execute("SELECT %s::text", ("a\x00b",))
        return {}

    caplog.set_level(logging.INFO)
    with TestClient(app) as api:
        response = api.get("/refused")
        assert response.status_code == 422
        assert response.json() == {"detail": "invalid input value"}
        assert 'route="/refused",status="422"' in api.get("/metrics").text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def _metric(metrics: Metrics, outcome: str) -> float:
    return (
        metrics.registry.get_sample_value(
            "beacon_prediction_log_records_total", {"outcome": outcome}
        )
        or 0.0
    )


def test_poisoned_record_never_drops_the_other_rows_of_its_batch(db) -> None:
    metrics = Metrics(lambda: None)
    log = PredictionLog(db, metrics, max_queue=100, flush_seconds=60)
    good = dict(EXAMPLE_RECORD)
    log.record("readmission", "1", [good, good], np.array([0.1, 0.2]))
    log.record("readmission", "1", [{**good, "race": "x\u0000y"}], np.array([0.3]))  # NUL
    log.record("readmission", "1", [good], np.array([1.5]))  # passes the guard, fails a CHECK
    log.record("readmission", "1", [good], np.array([0.4]))
    log.close()  # writes everything queued as one batch
    with db.connection() as conn:
        scores = [r[0] for r in conn.execute("SELECT score FROM prediction_log ORDER BY score")]
    assert scores == pytest.approx([0.1, 0.2, 0.4])
    assert _metric(metrics, "written") == 3
    assert _metric(metrics, "rejected_invalid") == 2
    assert _metric(metrics, "dropped_database_error") == 0


def test_document_counts_are_cached_between_scrapes(db) -> None:
    from services.jobs.store import upsert_postings
    from services.jobs.synthetic import generate_corpus

    cached = DocumentCollector(lambda: db, ttl=3600)
    fresh = DocumentCollector(lambda: db, ttl=0)

    def postings(collector: DocumentCollector) -> float:
        families = {f.name: f for f in collector.collect()}
        return next(
            s.value for s in families["beacon_documents"].samples if s.labels["kind"] == "postings"
        )

    assert postings(cached) == 0
    with db.connection() as conn:
        upsert_postings(conn, generate_corpus(n_postings=3, n_resumes=1, seed=1).postings)
    assert postings(cached) == 0  # within the TTL: no new count(*)
    assert postings(fresh) == 3

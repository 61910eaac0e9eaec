"""The events API end to end: recommendations, A/B assignment, feedback, results, admin key,
cache, validation (real PostgreSQL + pgvector, a real trained champion in a real MLflow store)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from services.core.database import Database
from services.recommender.experiments import Variant, assign
from services.recommender.training import train_events
from services.serving.app import create_app
from services.serving.settings import ServingSettings
from tests.helpers import drop_database
from tests.services.recommender.conftest import ADMIN_KEY, EventsHome, copy_template

ADMIN = {"X-Admin-Key": ADMIN_KEY}


@pytest.fixture(scope="module")
def api_db(pg_admin_url: str, events_template_url: str) -> Iterator[Database]:
    """A copy of the session data for this module's API (the tests write feedback into it)."""
    name, db = copy_template(pg_admin_url, "ev_api")
    yield db
    db.close()
    drop_database(pg_admin_url, name)


@pytest.fixture(scope="module")
def home(api_db: Database, tmp_path_factory) -> EventsHome:
    """A home whose MLflow store holds a trained events champion (version 1)."""
    store = EventsHome(tmp_path_factory.mktemp("events-api-home"))
    outcome = train_events(store.settings(), api_db, say=lambda _: None)
    assert outcome.promoted and outcome.version == "1"
    return store


def _client(home: EventsHome, db: Database, encoder, **overrides):
    settings = home.settings(**overrides)
    serving = ServingSettings(home=home.home, mlflow_tracking_uri=settings.mlflow_tracking_uri)
    return TestClient(create_app(serving, database=db, encoder=encoder, recommender=settings))


@pytest.fixture(scope="module")
def client(home: EventsHome, api_db: Database, encoder) -> Iterator[TestClient]:
    with _client(home, api_db, encoder, admin_api_key=ADMIN_KEY) as test_client:
        yield test_client


def _known_user(db: Database) -> str:
    with db.connection() as conn:
        return conn.execute(
            "SELECT user_id FROM event_interactions GROUP BY user_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]


def test_recommendations_are_upcoming_filtered_and_logged(client, api_db) -> None:
    user = _known_user(api_db)
    response = client.post("/v1/recommendations", json={"user_id": user, "top_k": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["algorithm"] == "hybrid" and body["variant"] is None
    assert body["model"] == {"name": "events-recommender", "version": "1"}
    assert body["cold_start"] is False
    assert 1 <= len(body["items"]) <= 5
    now = datetime.now(UTC)
    assert all(datetime.fromisoformat(i["starts_at"]) >= now for i in body["items"])
    with api_db.connection() as conn:
        seen = {
            r[0]
            for r in conn.execute(
                "SELECT event_id FROM event_interactions WHERE user_id = %s", (user,)
            )
        }
        logged = conn.execute(
            "SELECT user_id, items, algorithm FROM model_predictions WHERE prediction_id = %s",
            (body["recommendation_id"],),
        ).fetchone()
    assert not seen & {i["event_id"] for i in body["items"]}
    assert logged == (user, [i["event_id"] for i in body["items"]], "hybrid")

    city = client.post(
        "/v1/recommendations", json={"user_id": user, "city": "Cork", "top_k": 10}
    ).json()
    assert city["items"] and all(i["city"] == "Cork" for i in city["items"])
    # A date_from in the past never brings past events back.
    past = client.post(
        "/v1/recommendations",
        json={"user_id": user, "date_from": "2020-01-01T00:00:00Z", "top_k": 20},
    ).json()
    assert past["items"]
    assert all(datetime.fromisoformat(i["starts_at"]) >= now for i in past["items"])
    window = client.post(
        "/v1/recommendations",
        json={"user_id": user, "date_to": (now + timedelta(days=20)).isoformat(), "top_k": 20},
    ).json()
    assert all(
        now <= datetime.fromisoformat(i["starts_at"]) < now + timedelta(days=20)
        for i in window["items"]
    )


def test_unknown_users_get_popular_events_in_their_city(client) -> None:
    body = client.post(
        "/v1/recommendations", json={"user_id": "brand-new-user", "city": "Dublin"}
    ).json()
    assert body["cold_start"] is True
    assert body["items"] and all(i["city"] == "Dublin" for i in body["items"])
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True)


def test_second_request_is_served_from_the_cache_until_feedback(client, api_db) -> None:
    user = _known_user(api_db)
    query = {"user_id": user, "top_k": 7, "city": "Galway"}
    first = client.post("/v1/recommendations", json=query).json()
    second = client.post("/v1/recommendations", json=query).json()
    assert second["cached"] is True
    assert [i["event_id"] for i in second["items"]] == [i["event_id"] for i in first["items"]]
    dismissed = first["items"][0]["event_id"]
    feedback = client.post(
        "/v1/feedback",
        json={
            "recommendation_id": second["recommendation_id"],
            "event_id": dismissed,
            "action": "dismiss",
        },
    )
    assert feedback.status_code == 201, feedback.text
    third = client.post("/v1/recommendations", json=query).json()
    assert third["cached"] is False
    assert dismissed not in [i["event_id"] for i in third["items"]]


def test_admin_endpoints_need_the_configured_key(client, home, api_db, encoder) -> None:
    body = {
        "experiment_id": "auth-check",
        "name": "auth",
        "status": "draft",  # a running one would block the next test's (one at a time)
        "variants": [
            {"name": "control", "algorithm": "popularity", "weight": 1},
            {"name": "als", "algorithm": "als", "weight": 1},
        ],
    }
    assert client.post("/v1/experiments", json=body).status_code == 401
    nul = client.post("/v1/experiments", json={**body, "name": "a\u0000b"}, headers=ADMIN)
    assert nul.status_code == 422 and nul.json()["detail"][0]["loc"] == ["body", "name"]
    wrong = client.post("/v1/experiments", json=body, headers={"X-Admin-Key": "nope"})
    assert wrong.status_code == 403
    assert client.post("/v1/model/retrain", headers={"X-Admin-Key": "nope"}).status_code == 403
    with _client(home, api_db, encoder) as no_key:
        refused = no_key.post("/v1/experiments", json=body, headers=ADMIN)
        assert refused.status_code == 403
        assert "BEACON_ADMIN_API_KEY" in refused.json()["detail"]
    created = client.post("/v1/experiments", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert client.post("/v1/experiments", json=body, headers=ADMIN).status_code == 409


def test_experiment_assigns_logs_and_reports_results(client) -> None:
    weights = {"control": 0.5, "hybrid": 0.5}
    created = client.post(
        "/v1/experiments",
        headers=ADMIN,
        json={
            "experiment_id": "pop-vs-hybrid",
            "name": "Popularity vs hybrid",
            "goal": "purchase",
            "variants": [
                {"name": "control", "algorithm": "popularity", "weight": weights["control"]},
                {"name": "hybrid", "algorithm": "hybrid", "weight": weights["hybrid"]},
            ],
        },
    )
    assert created.status_code == 201, created.text
    listed = client.get("/v1/experiments").json()["experiments"]
    assert "pop-vs-hybrid" in [e["experiment_id"] for e in listed]
    variants = (Variant("control", "popularity", 0.5), Variant("hybrid", "hybrid", 0.5))
    purchases = {"control": 0, "hybrid": 0}
    exposures = {"control": 0, "hybrid": 0}
    for n in range(40):
        user = f"u{n + 1:06d}"
        body = client.post(
            "/v1/recommendations",
            json={"user_id": user, "experiment_id": "pop-vs-hybrid", "top_k": 3},
        ).json()
        expected = assign(user, "pop-vs-hybrid", variants)
        assert body["variant"] == expected.name and body["algorithm"] == expected.algorithm
        exposures[expected.name] += 1
        if n % 3 == 0 and body["items"]:
            done = client.post(
                "/v1/feedback",
                json={
                    "recommendation_id": body["recommendation_id"],
                    "event_id": body["items"][0]["event_id"],
                    "action": "purchase",
                },
            )
            assert done.status_code == 201
            assert done.json()["variant"] == expected.name
            purchases[expected.name] += 1
    results = client.get("/v1/experiments/pop-vs-hybrid/results").json()
    by_name = {v["name"]: v for v in results["variants"]}
    for name in ("control", "hybrid"):
        assert by_name[name]["exposures"] == exposures[name]
        assert by_name[name]["conversions"] == purchases[name]
    assert by_name["control"]["is_control"] and "p_value" in by_name["hybrid"]
    assert results["sample_ratio"]["mismatch"] is False
    assert client.get("/v1/experiments/nope/results").status_code == 404
    assert client.get("/v1/experiments/bad%00id/results").status_code == 422


def test_feedback_for_an_unknown_or_malformed_list_is_rejected_cleanly(client, api_db) -> None:
    unknown = client.post(
        "/v1/feedback",
        json={"recommendation_id": str(uuid.uuid4()), "event_id": "ev000001", "action": "view"},
    )
    assert unknown.status_code == 404
    assert "recommendation_id" in unknown.json()["detail"]
    malformed = client.post(
        "/v1/feedback", json={"recommendation_id": "12", "event_id": "e", "action": "view"}
    )
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["loc"] == ["body", "recommendation_id"]
    served = client.post("/v1/recommendations", json={"user_id": _known_user(api_db)}).json()
    outside = client.post(
        "/v1/feedback",
        json={
            "recommendation_id": served["recommendation_id"],
            "event_id": "not-in-list",
            "action": "save",
        },
    )
    assert outside.status_code == 422 and outside.json()["detail"].startswith("event_id")
    bad_action = client.post(
        "/v1/feedback",
        json={"recommendation_id": served["recommendation_id"], "event_id": "x", "action": "like"},
    )
    assert bad_action.json()["detail"][0]["loc"] == ["body", "action"]
    with api_db.connection() as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM ml_feedback WHERE prediction_id = %s",
                (served["recommendation_id"],),
            ).fetchone()[0]
            == 0
        )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_id": "u1", "top_k": 0}, "top_k"),
        ({"user_id": ""}, "user_id"),
        ({"user_id": "u1", "topk": 5}, "topk"),
        (
            {
                "user_id": "u1",
                "date_from": "2026-05-02T00:00:00Z",
                "date_to": "2026-05-01T00:00:00Z",
            },
            "date_to",
        ),
        ({"user_id": "u1", "date_from": "2026-05-02T00:00:00"}, "date_from"),
        ({"user_id": "u\u0000x"}, "user_id"),
        ({"user_id": "u1", "city": "Cork\u0000"}, "city"),
    ],
)
def test_bad_recommendation_requests_name_the_field(client, body, field) -> None:
    response = client.post("/v1/recommendations", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


def test_extreme_dates_are_answered_not_crashed(client) -> None:
    far = client.post(
        "/v1/recommendations",
        json={
            "user_id": "u000001",
            "date_from": "0001-01-01T00:00:00Z",
            "date_to": "9999-12-31T00:00:00Z",
        },
    )
    assert far.status_code == 200 and far.json()["items"]
    later = client.post(
        "/v1/recommendations", json={"user_id": "u000001", "date_from": "9999-01-01T00:00:00Z"}
    )
    assert later.status_code == 200 and later.json()["items"] == []


def test_model_info_includes_the_events_models(client) -> None:
    info = client.get("/v1/model/info").json()["models"]
    events = info["events"]
    assert events["status"] == "serving" and events["version"] == "1"
    assert (
        events["metrics"]["test_ndcg_at_10_hybrid"]
        > events["metrics"]["test_ndcg_at_10_popularity"]
    )
    assert client.get(f"/v1/model/retrain/{uuid.uuid4()}").status_code == 404

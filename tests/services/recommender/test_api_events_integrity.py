"""Events integrity: experiment lifecycle (dates, start/stop, one running at a time), feedback
idempotency, undoing dismissals, and lists bound to the calling client in deployed mode."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from services.core.database import Database
from services.recommender.training import train_events
from services.serving.app import create_app
from services.serving.settings import ServingSettings
from tests.helpers import drop_database
from tests.services.recommender.conftest import ADMIN_KEY, EventsHome, copy_template

pytestmark = pytest.mark.hostile
ADMIN = {"X-Admin-Key": ADMIN_KEY}
VARIANTS = [
    {"name": "control", "algorithm": "popularity", "weight": 1},
    {"name": "als", "algorithm": "als", "weight": 1},
]


@pytest.fixture(scope="module")
def api_db(pg_admin_url: str, events_template_url: str) -> Iterator[Database]:
    name, db = copy_template(pg_admin_url, "ev_integrity")
    yield db
    db.close()
    drop_database(pg_admin_url, name)


@pytest.fixture(scope="module")
def home(api_db: Database, tmp_path_factory) -> EventsHome:
    store = EventsHome(tmp_path_factory.mktemp("events-integrity-home"))
    assert train_events(store.settings(), api_db, say=lambda _: None).promoted
    return store


def _client(home: EventsHome, db: Database, encoder, **serving) -> TestClient:
    settings = home.settings(admin_api_key=ADMIN_KEY)
    api = ServingSettings(
        home=home.home, mlflow_tracking_uri=settings.mlflow_tracking_uri, **serving
    )
    return TestClient(create_app(api, database=db, encoder=encoder, recommender=settings))


@pytest.fixture(scope="module")
def client(home, api_db, encoder) -> Iterator[TestClient]:
    with _client(home, api_db, encoder) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def deployed(home, api_db, encoder) -> Iterator[TestClient]:
    """The same data behind an API that requires X-Beacon-Client (deployed mode)."""
    with _client(home, api_db, encoder, require_client_identity=True) as test_client:
        yield test_client


def _experiment(experiment_id: str, **extra) -> dict:
    return {"experiment_id": experiment_id, "name": experiment_id, "variants": VARIANTS, **extra}


def _iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def test_experiment_lifecycle(client, api_db) -> None:
    past = client.post(
        "/v1/experiments",
        headers=ADMIN,
        json=_experiment("ended", ends_at=_iso(-timedelta(days=1))),
    )
    assert past.status_code == 422, past.text
    assert past.json()["detail"][0]["loc"] == ["body", "ends_at"]

    first = client.post("/v1/experiments", headers=ADMIN, json=_experiment("first"))
    assert first.status_code == 201, first.text
    # A second running experiment would silently take over every user: refused.
    second = client.post("/v1/experiments", headers=ADMIN, json=_experiment("second"))
    assert second.status_code == 409 and "first" in second.json()["detail"]
    draft = client.post(
        "/v1/experiments", headers=ADMIN, json=_experiment("second", status="draft")
    )
    assert draft.status_code == 201
    assert client.post("/v1/experiments/second/start", headers=ADMIN).status_code == 409
    stopped = client.post("/v1/experiments/first/stop", headers=ADMIN)
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    assert client.post("/v1/experiments/first/stop").status_code == 401  # admin only
    started = client.post("/v1/experiments/second/start", headers=ADMIN)
    assert started.status_code == 200 and started.json()["status"] == "running"
    assert client.post("/v1/experiments/nope/start", headers=ADMIN).status_code == 404
    served = client.post("/v1/recommendations", json={"user_id": "u000001"}).json()
    assert served["experiment_id"] == "second"
    # Results of the stopped one stay readable, and it assigns nobody any more.
    assert client.get("/v1/experiments/first/results").status_code == 200
    refused = client.post("/v1/recommendations", json={"user_id": "u1", "experiment_id": "first"})
    assert refused.status_code == 422
    client.post("/v1/experiments/second/stop", headers=ADMIN)


def test_not_yet_started_experiment_assigns_nobody(client) -> None:
    later = _experiment("later", starts_at=_iso(timedelta(days=1)), ends_at=_iso(timedelta(days=2)))
    assert client.post("/v1/experiments", headers=ADMIN, json=later).status_code == 201
    early = client.post(
        "/v1/recommendations", json={"user_id": "u000002", "experiment_id": "later"}
    )
    assert early.status_code == 422 and "not started" in early.json()["detail"]
    assert client.post("/v1/recommendations", json={"user_id": "u000002"}).json()["variant"] is None
    client.post("/v1/experiments/later/stop", headers=ADMIN)


def _count(db: Database, sql: str, *args) -> int:
    with db.connection() as conn:
        return conn.execute(sql, args).fetchone()[0]


def test_feedback_is_idempotent_and_dismissals_can_be_undone(client, api_db) -> None:
    served = client.post("/v1/recommendations", json={"user_id": "u000003", "top_k": 5}).json()
    event = served["items"][0]["event_id"]
    body = {"recommendation_id": served["recommendation_id"], "event_id": event, "action": "save"}
    first, again = client.post("/v1/feedback", json=body), client.post("/v1/feedback", json=body)
    assert first.status_code == again.status_code == 201
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert first.json()["feedback_id"] == again.json()["feedback_id"]
    stored = "SELECT count(*) FROM ml_feedback WHERE prediction_id = %s AND event_id = %s"
    assert _count(api_db, stored, served["recommendation_id"], event) == 1

    dismiss = {**body, "action": "dismiss"}
    assert client.post("/v1/feedback", json=dismiss).status_code == 201
    after = client.post("/v1/recommendations", json={"user_id": "u000003", "top_k": 5}).json()
    assert event not in [i["event_id"] for i in after["items"]]
    path = f"/v1/recommendations/{served['recommendation_id']}/dismissals/{event}"
    assert client.delete(path).status_code == 204
    assert client.delete(path).status_code == 404  # nothing left to undo
    back = client.post("/v1/recommendations", json={"user_id": "u000003", "top_k": 5}).json()
    assert event in [i["event_id"] for i in back["items"]]


def test_deployed_mode_binds_lists_to_the_calling_client(deployed, api_db) -> None:
    user = {"user_id": "u000004", "top_k": 3}
    assert deployed.post("/v1/recommendations", json=user).status_code == 401
    mine = deployed.post("/v1/recommendations", json=user, headers={"X-Beacon-Client": "app-a"})
    assert mine.status_code == 200
    other = {"X-Beacon-Client": "app-b"}
    assert deployed.post("/v1/recommendations", json=user, headers=other).status_code == 403
    feedback = {
        "recommendation_id": mine.json()["recommendation_id"],
        "event_id": mine.json()["items"][0]["event_id"],
        "action": "dismiss",
    }
    assert deployed.post("/v1/feedback", json=feedback, headers=other).status_code == 403
    stored = "SELECT count(*) FROM ml_feedback WHERE prediction_id = %s"
    assert _count(api_db, stored, feedback["recommendation_id"]) == 0
    own = deployed.post("/v1/feedback", json=feedback, headers={"X-Beacon-Client": "app-a"})
    assert own.status_code == 201

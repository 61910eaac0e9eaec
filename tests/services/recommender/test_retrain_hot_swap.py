"""Retraining through the API under load: feedback is used, the new version is swapped in with
zero failed requests, and a version that trails the champion is registered but not served."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from services.mlops.registry import CHAMPION, alias_version, client
from services.recommender.store import read_interactions
from services.recommender.training import GATE_METRIC, train_events
from services.serving.app import create_app
from services.serving.settings import ServingSettings
from tests.helpers import hammer, serve_in_thread, wait_for
from tests.services.recommender.conftest import ADMIN_KEY

POLL_SECONDS = 0.2
ADMIN = {"X-Admin-Key": ADMIN_KEY}


@pytest.fixture
def live(events_db, events_home, encoder) -> Iterator[str]:
    """A trained champion (version 1), then a real server on loopback polling every 0.2 s."""
    settings = events_home.settings(admin_api_key=ADMIN_KEY)
    assert train_events(settings, events_db, say=lambda _: None).version == "1"
    serving = ServingSettings(
        home=events_home.home,
        mlflow_tracking_uri=settings.mlflow_tracking_uri,
        model_poll_seconds=POLL_SECONDS,
    )
    app = create_app(serving, database=events_db, encoder=encoder, recommender=settings)
    with serve_in_thread(app, join_timeout=60) as base_url:
        yield base_url


def _hammer(base_url: str, user: str, stop: threading.Event, seen: list, failures: list) -> None:
    body = {"user_id": user, "top_k": 5}

    def record(payload: dict) -> str:
        return payload["model"]["version"]

    hammer(base_url, "/v1/recommendations", body, record, stop, seen, failures)


def _wait_for(predicate) -> None:
    wait_for(predicate, timeout=120.0, step=0.1)


def _hold_training(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """(entered, release): the real train_events runs, but only once `release` is set, so a
    test knows the job is running instead of assuming training is slow enough."""
    from services.recommender import training

    entered, release = threading.Event(), threading.Event()
    real = training.train_events

    def held(*args, **kwargs):
        entered.set()
        release.wait(120)
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "train_events", held)
    return entered, release


def test_retrain_uses_feedback_and_swaps_without_failed_requests(
    live, events_db, monkeypatch: pytest.MonkeyPatch
) -> None:
    with httpx.Client(base_url=live, timeout=20) as http:
        served = http.post("/v1/recommendations", json={"user_id": "u000001"}).json()
        bought = served["items"][0]["event_id"]
        assert (
            http.post(
                "/v1/feedback",
                json={
                    "recommendation_id": served["recommendation_id"],
                    "event_id": bought,
                    "action": "purchase",
                },
            ).status_code
            == 201
        )
    with events_db.connection() as conn:
        frame = read_interactions(conn)
    fed_back = frame[(frame["user_id"] == "u000001") & (frame["event_id"] == bought)]
    assert "purchase" in set(fed_back["action"])  # the next training sees the feedback

    stop, failures = threading.Event(), []
    seen: list[list[str]] = [[] for _ in range(3)]
    users = ["u000002", "u000003", "someone-new"]
    threads = [
        threading.Thread(target=_hammer, args=(live, u, stop, s, failures))
        for u, s in zip(users, seen, strict=True)
    ]
    entered, release = _hold_training(monkeypatch)
    for thread in threads:
        thread.start()
    try:
        _wait_for(lambda: all(len(s) >= 3 for s in seen))
        started = httpx.post(f"{live}/v1/model/retrain", headers=ADMIN, timeout=20)
        assert started.status_code == 202, started.text
        job_id = started.json()["job_id"]
        assert entered.wait(60)  # the job is running (and held): a second one is refused
        busy = httpx.post(f"{live}/v1/model/retrain", headers=ADMIN, timeout=20)
        assert busy.status_code == 409, busy.text
        release.set()

        def finished() -> bool:
            status = httpx.get(f"{live}/v1/model/retrain/{job_id}", timeout=20).json()
            return status["status"] != "running"

        _wait_for(finished)
        status = httpx.get(f"{live}/v1/model/retrain/{job_id}", timeout=20).json()
        assert status["status"] == "succeeded", status
        assert status["version"] == "2" and status["promoted"] is True
        _wait_for(lambda: all(s and s[-1] == "2" for s in seen))
        before = [len(s) for s in seen]
        _wait_for(lambda: all(len(s) >= n + 3 for s, n in zip(seen, before, strict=True)))
    finally:
        release.set()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert failures == []
    for versions in seen:
        assert versions[0] == "1" and versions[-1] == "2"
        assert set(versions[versions.index("2") :]) == {"2"}  # one atomic swap per client
    info = httpx.get(f"{live}/v1/model/info", timeout=20).json()["models"]["events"]
    assert info["version"] == "2"


def test_a_model_trailing_the_champion_is_not_promoted(events_db, events_home) -> None:
    settings = events_home.settings(rec_promotion_margin=0.01)
    first = train_events(settings, events_db, say=lambda _: None)
    assert first.promoted
    # Make the champion's recorded score unreachable: the same data cannot come within 0.01.
    client(settings).log_metric(first.run_id, GATE_METRIC, 0.99)
    second = train_events(settings, events_db, say=lambda _: None)
    assert not second.promoted and second.gate.startswith("failed")
    assert second.champion_ndcg == pytest.approx(0.99)
    assert str(alias_version(settings.events_model_name, CHAMPION, settings).version) == "1"
    with events_db.connection() as conn:
        rows = conn.execute(
            "SELECT version, promoted FROM model_versions ORDER BY version"
        ).fetchall()
    assert rows == [("1", True), ("2", False)]

"""End to end: Prometheus scrapes a live API, an outage fires an alert that reaches the team chat.

Real Prometheus (rules loaded, the API alerts' `for:` shortened to 1 s), real Alertmanager
(the routing config, its Slack webhook secret pointing at a local receiver), the real API under
uvicorn on loopback and its own embedded PostgreSQL, which the test stops and starts again.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from services.core.database import Database
from services.core.embedded import restart_embedded, start_embedded, stop_embedded
from services.core.migrations import migrate
from services.serving.app import create_app
from services.serving.settings import ServingSettings
from tests.helpers import serve_in_thread
from tests.observability.obs_support import (
    ChatSink,
    alertmanager,
    binary,
    prometheus,
    rules_with_short_waits,
)

#: Longest wait for a notification after the outage starts or ends.
DELIVERY_SECONDS = 25


def _query(prometheus_url: str, expr: str) -> list[dict]:
    response = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": expr}, timeout=5)
    response.raise_for_status()
    return response.json()["data"]["result"]


def _wait_query(prometheus_url: str, expr: str, timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = _query(prometheus_url, expr)
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"no result for {expr!r} within {timeout}s")


def test_database_outage_pages_oncall_then_resolves(private_home: Path, encoder, tmp_path) -> None:
    binary("prometheus"), binary("prometheus-alertmanager")  # skip early, before any setup
    pgdata = private_home / "pgdata"
    url = start_embedded(pgdata)
    migrate(url)
    # A short pool timeout: a scrape during the outage must answer well within its timeout.
    database = Database(url, min_size=1, max_size=2, timeout=0.5)
    settings = ServingSettings(
        home=private_home,
        mlflow_tracking_uri=f"sqlite:///{private_home / 'mlflow' / 'mlflow.db'}",
        model_poll_seconds=3600,
    )
    app = create_app(settings, database=database, encoder=encoder)
    rules = rules_with_short_waits(tmp_path / "rules.yml", {"BeaconApiNotReady", "BeaconApiDown"})
    (tmp_path / "am").mkdir()
    (tmp_path / "prom").mkdir()
    try:
        with (
            serve_in_thread(app) as api_url,
            ChatSink() as chat,
            alertmanager(tmp_path / "am", chat.url) as am_url,
            prometheus(tmp_path / "prom", api_url.removeprefix("http://"), am_url, rules) as prom,
        ):
            assert httpx.get(f"{api_url}/ready", timeout=5).status_code == 200
            _wait_query(prom, 'beacon_ready{job="beacon-api"} == 1', timeout=20)
            assert not chat.messages, chat.titles()  # a healthy API alerts nobody

            stop_embedded(pgdata)
            outage = time.monotonic()
            try:
                title = chat.wait_for_title("FIRING", "BeaconApiNotReady", timeout=DELIVERY_SECONDS)
                fired_after = time.monotonic() - outage
                assert title.startswith("[FIRING:1] BeaconApiNotReady (api)")
                [page] = [m for m in chat.messages if "BeaconApiNotReady" in str(m)]
                assert page["channel"] == "#beacon-oncall"  # severity=page -> on-call
                assert "is not ready" in page["attachments"][0]["text"]
                # The scrape itself kept working: this is readiness, not a dead process.
                assert _query(prom, 'up{job="beacon-api"} == 1')
            finally:
                restart_embedded(pgdata)
            recovery = time.monotonic()
            chat.wait_for_title("RESOLVED", "BeaconApiNotReady", timeout=DELIVERY_SECONDS)
            resolved_after = time.monotonic() - recovery
            assert not any("BeaconApiDown" in t for t in chat.titles())
            print(
                f"alert delivered {fired_after:.1f}s after the outage, "
                f"resolved {resolved_after:.1f}s after recovery"
            )
    finally:
        database.close()

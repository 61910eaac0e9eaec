"""Alertmanager routing: valid config, every alert routed as intended, inhibition on a real one."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml

from tests.observability.obs_support import (
    ALERTMANAGER,
    ROUTE_CASES,
    ChatSink,
    alerting_rules,
    alertmanager,
    alertmanager_config_for_test,
    binary,
)


def _amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary("amtool"), *args], capture_output=True, text=True, timeout=60)


def test_config_passes_amtool_check(tmp_path: Path) -> None:
    result = _amtool("check-config", str(ALERTMANAGER))
    assert result.returncode == 0, result.stdout + result.stderr
    # Secrets come from files only: no URL or password is written in the config itself.
    config = yaml.safe_load(ALERTMANAGER.read_text())
    assert config["global"]["slack_api_url_file"].startswith("/etc/alertmanager/secrets/")
    assert config["global"]["smtp_auth_password_file"].startswith("/etc/alertmanager/secrets/")
    text = ALERTMANAGER.read_text()
    assert "hooks.slack.com" not in text and "smtp_auth_password:" not in text
    # The test variant (local secret files, loopback endpoints) is valid too.
    test_config = alertmanager_config_for_test(tmp_path, "http://127.0.0.1:9/slack")
    assert _amtool("check-config", str(test_config)).returncode == 0


def test_every_alert_routes_to_its_receivers() -> None:
    cases = yaml.safe_load(ROUTE_CASES.read_text())["cases"]
    routed = {case["labels"]["alertname"] for case in cases}
    assert {rule["alert"] for rule in alerting_rules()} <= routed
    by_name = {rule["alert"]: rule for rule in alerting_rules()}
    for case in cases:
        labels = case["labels"]
        rule = by_name.get(labels["alertname"])
        if rule is not None:  # the case uses the labels the rule really sets
            assert {k: labels[k] for k in rule["labels"]} == rule["labels"], labels
        result = _amtool(
            "config",
            "routes",
            "test",
            f"--config.file={ALERTMANAGER}",
            f"--verify.receivers={','.join(case['receivers'])}",
            *(f"{k}={v}" for k, v in labels.items()),
        )
        assert result.returncode == 0, f"{labels}: {result.stdout}{result.stderr}"


def _post_alerts(url: str, *alerts: dict[str, str]) -> None:
    now = datetime.now(UTC)
    payload = [
        {
            "labels": labels,
            "annotations": {"summary": labels["alertname"], "description": "test"},
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(minutes=5)).isoformat(),
        }
        for labels in alerts
    ]
    httpx.post(f"{url}/api/v2/alerts", json=payload, timeout=5).raise_for_status()


def _statuses(url: str) -> dict[str, dict]:
    alerts = httpx.get(f"{url}/api/v2/alerts", timeout=5).json()
    return {a["labels"]["alertname"]: a["status"] for a in alerts}


def test_api_outage_inhibits_drift_alerts_on_a_real_alertmanager(tmp_path: Path) -> None:
    with ChatSink() as chat, alertmanager(tmp_path, chat.url) as url:
        drift = {"alertname": "BeaconDataDrift", "severity": "ticket", "area": "drift"}
        _post_alerts(url, drift)
        chat.wait_for_title("FIRING", "BeaconDataDrift", timeout=20)
        not_ready = {
            "alertname": "BeaconApiNotReady",
            "severity": "page",
            "area": "api",
            "instance": "127.0.0.1:8000",
        }
        auc = {"alertname": "BeaconModelAucDrop", "severity": "ticket", "area": "drift"}
        refresh = {"alertname": "BeaconDocumentsPending", "severity": "ticket", "area": "refresh"}
        _post_alerts(url, not_ready, auc, refresh)
        chat.wait_for_title("FIRING", "BeaconApiNotReady", timeout=20)
        chat.wait_for_title("FIRING", "BeaconDocumentsPending", timeout=20)
        statuses = _statuses(url)
        assert statuses["BeaconModelAucDrop"]["state"] == "suppressed"
        assert statuses["BeaconModelAucDrop"]["inhibitedBy"]
        assert statuses["BeaconDataDrift"]["inhibitedBy"]
        assert not statuses["BeaconDocumentsPending"]["inhibitedBy"]  # not a drift signal
        assert not statuses["BeaconApiNotReady"]["inhibitedBy"]
        time.sleep(2)  # several group intervals: an inhibited alert is never sent
        assert not any("BeaconModelAucDrop" in t for t in chat.titles())
        # The page reached the on-call channel, the refresh ticket the team channel.
        channels = {
            a["title"].split("] ")[1].split(" ")[0]: m["channel"]
            for m in chat.messages
            for a in m["attachments"]
        }
        assert channels["BeaconApiNotReady"] == "#beacon-oncall"
        assert channels["BeaconDocumentsPending"] == "#beacon-alerts"
        assert channels["BeaconDataDrift"] == "#beacon-ml"

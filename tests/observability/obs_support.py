"""Helpers for the observability tests: binaries, config rewrites, processes, a webhook sink."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "observability"
RULES = OBSERVABILITY / "prometheus" / "rules" / "beacon.rules.yml"
RULE_TESTS = sorted((OBSERVABILITY / "prometheus" / "tests").glob("*.test.yml"))
ALERTMANAGER = OBSERVABILITY / "alertmanager" / "alertmanager.yml"
ROUTE_CASES = OBSERVABILITY / "alertmanager" / "tests" / "routes.yml"
DASHBOARDS = OBSERVABILITY / "grafana" / "dashboards"
INSTALL_HINT = "apt-get install -y prometheus prometheus-alertmanager (.ci/run installs them in CI)"


def binary(name: str) -> str:
    """Path of a required binary, or skip the test saying how to install it."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not found: {INSTALL_HINT}")
    return path


def alerting_rules() -> list[dict[str, Any]]:
    """Every alerting rule of the rules file."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def rules_with_short_waits(destination: Path, alerts: set[str], wait: str = "1s") -> Path:
    """The rules file with the `for:` of `alerts` shortened (end-to-end tests cannot wait
    minutes); the others keep theirs, so a slow first request cannot page during a test."""
    document = yaml.safe_load(RULES.read_text())
    for group in document["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") in alerts and "for" in rule:
                rule["for"] = wait
    destination.write_text(yaml.safe_dump(document, sort_keys=False))
    return destination


def alertmanager_config_for_test(folder: Path, chat_url: str) -> Path:
    """The real routing config with its secret files in `folder` and loopback-only endpoints.

    The Slack webhook secret points at the local receiver; SMTP goes to a closed loopback port
    (e-mail attempts fail fast instead of leaving the machine); waits are shortened.
    """
    secrets = folder / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    (secrets / "slack_webhook_url").write_text(chat_url)
    (secrets / "smtp_password").write_text("test-only")
    config = yaml.safe_load(ALERTMANAGER.read_text())
    config["global"]["slack_api_url_file"] = str(secrets / "slack_webhook_url")
    config["global"]["smtp_auth_password_file"] = str(secrets / "smtp_password")
    config["global"]["smtp_smarthost"] = f"127.0.0.1:{free_port()}"
    config["global"]["smtp_require_tls"] = False
    config["templates"] = [str(ALERTMANAGER.parent / t) for t in config["templates"]]
    config["route"].update(group_wait="1s", group_interval="1s", repeat_interval="1h")
    for route in config["route"].get("routes", []):
        route.pop("repeat_interval", None)
    path = folder / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


class ChatSink:
    """A tiny Slack-compatible webhook receiver on loopback: records every posted message."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sink.messages.append({"path": self.path, **json.loads(body or b"{}")})
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/slack"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ChatSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def titles(self) -> list[str]:
        """Attachment titles of every message, in arrival order."""
        return [a.get("title", "") for m in self.messages for a in m.get("attachments", [])]

    def wait_for_title(self, *fragments: str, timeout: float) -> str:
        """The first title containing every fragment; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for title in self.titles():
                if all(f in title for f in fragments):
                    return title
            time.sleep(0.1)
        raise AssertionError(f"no message titled with {fragments} in {timeout}s: {self.titles()}")


@contextmanager
def running(args: list[str], ready_url: str, log: Path, timeout: float = 30.0) -> Iterator[None]:
    """Run a server process (its output to `log`) until its readiness URL answers 200."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                assert proc.poll() is None, f"{args[0]} exited: {log.read_text()[-2000:]}"
                try:
                    if httpx.get(ready_url, timeout=1.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                tail = log.read_text()[-2000:]
                assert time.monotonic() < deadline, f"{args[0]} not ready: {tail}"
                time.sleep(0.2)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def alertmanager(folder: Path, chat_url: str) -> Iterator[str]:
    """A real Alertmanager on loopback with the routing config; yields its base URL."""
    config = alertmanager_config_for_test(folder, chat_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        binary("prometheus-alertmanager"),
        f"--config.file={config}",
        f"--storage.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # no gossip port: a single local instance
    ]
    with running(args, f"{url}/-/ready", folder / "alertmanager.log"):
        yield url


@contextmanager
def prometheus(folder: Path, target: str, alertmanager_url: str, rules: Path) -> Iterator[str]:
    """A real Prometheus on loopback scraping `target` (host:port) every two seconds."""
    config = {
        # During an outage a scrape waits out the API's pool timeout twice (document counts
        # and readiness): the scrape timeout leaves room for that, as it must in production.
        "global": {"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "alerting": {
            "alertmanagers": [
                {"static_configs": [{"targets": [alertmanager_url.removeprefix("http://")]}]}
            ]
        },
        "scrape_configs": [
            {
                "job_name": "beacon-api",
                "static_configs": [{"targets": [target]}],
            }
        ],
    }
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        binary("prometheus"),
        f"--config.file={path}",
        f"--storage.tsdb.path={folder / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with running(args, f"{url}/-/ready", folder / "prometheus.log"):
        yield url

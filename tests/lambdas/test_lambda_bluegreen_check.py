"""Blue/green check against a local HTTPS server standing in for the ALB's test listener."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from lambdas.bluegreen_check import handler as hook
from lambdas.bluegreen_check.probe import Probe, attempt_of, verdict
from lambdas.bluegreen_check.settings import BlueGreenCheckSettings

SERVER_NAME = "api.beacon.test"
JSON_OK = (200, b'{"status": "ready"}')


def _certificates(tmp: Path) -> tuple[Path, Path, Path]:
    """A private CA and a leaf for SERVER_NAME signed by it: (CA pem, leaf pem, leaf key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "beacon test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (tmp / "ca.pem", tmp / "leaf.pem", tmp / "leaf.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


class StandInListener:
    """HTTPS server on 127.0.0.1 whose answers per path the test sets; records Host headers."""

    def __init__(self, tmp: Path) -> None:
        self.ca, leaf, key = _certificates(tmp)
        self.answers: dict[str, tuple[int, bytes]] = {"/ready": JSON_OK, "/health": JSON_OK}
        self.hosts: list[str] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                listener.hosts.append(self.headers.get("Host", ""))
                status, body = listener.answers.get(self.path, (404, b"not found"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(leaf, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[StandInListener]:
    server = StandInListener(tmp_path)
    yield server
    server.close()


def _configure(monkeypatch: pytest.MonkeyPatch, url: str, ca: Path | None, **extra: str) -> None:
    """Settings through the environment, as the Lambda gets them; ca None: system trust store."""
    monkeypatch.delenv("BEACON_BLUEGREEN_CA_BUNDLE", raising=False)
    values = {
        "TEST_URL": url,
        "SERVER_NAME": SERVER_NAME,
        **({"CA_BUNDLE": str(ca)} if ca else {}),
        "TIMEOUT_S": "1",
        "MAX_ATTEMPTS": "3",
        "RETRY_DELAY_S": "20",
        **extra,
    }
    for name, value in values.items():
        monkeypatch.setenv(f"BEACON_BLUEGREEN_{name}", value)
    hook.get_settings.cache_clear()


def _event(attempt: int | None = None) -> dict:
    event: dict = {
        "executionId": "exec-1",
        "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
        "resourceArn": "arn:aws:ecs:us-east-1:111111111111:service-deployment/c/s/1",
        "executionDetails": {
            "testTrafficWeights": {"arn:green": 100},
            "productionTrafficWeights": {"arn:blue": 100},
        },
    }
    if attempt is not None:
        event["hookDetails"] = {"attempt": attempt}
    return event


def test_healthy_green_tasks_succeed(
    listener: StandInListener, monkeypatch: pytest.MonkeyPatch, context: object
) -> None:
    _configure(monkeypatch, listener.url, listener.ca)
    assert hook.handler(_event(), context) == {"hookStatus": "SUCCEEDED"}
    # Both routes asked, under the certificate's name (what the ALB rule sees as Host).
    assert listener.hosts == [SERVER_NAME, SERVER_NAME]


def test_503_waits_while_attempts_remain_then_fails(
    listener: StandInListener, monkeypatch: pytest.MonkeyPatch, context: object
) -> None:
    listener.answers["/ready"] = (503, b'{"status": "not_ready", "reason": "database"}')
    _configure(monkeypatch, listener.url, listener.ca)
    first = hook.handler(_event(), context)
    assert first == {
        "hookStatus": "IN_PROGRESS",
        "callBackDelay": 20,
        "hookDetails": {"attempt": 2},
    }
    # ECS hands hookDetails back on the next call; the last attempt rolls the deployment back.
    assert hook.handler(_event(2), context)["hookStatus"] == "IN_PROGRESS"
    assert hook.handler(_event(3), context) == {"hookStatus": "FAILED"}


def test_green_tasks_that_recover_while_warming_succeed(
    listener: StandInListener, monkeypatch: pytest.MonkeyPatch, context: object
) -> None:
    listener.answers["/ready"] = (503, b"{}")
    _configure(monkeypatch, listener.url, listener.ca)
    assert hook.handler(_event(), context)["hookStatus"] == "IN_PROGRESS"
    listener.answers["/ready"] = JSON_OK
    assert hook.handler(_event(2), context) == {"hookStatus": "SUCCEEDED"}


@pytest.mark.parametrize(
    "answer",
    [(500, b'{"detail": "boom"}'), (404, b"not found"), (200, b"<html>default page</html>")],
    ids=["500", "404", "200-not-json"],
)
def test_a_wrong_answer_fails_at_once(
    answer: tuple[int, bytes],
    listener: StandInListener,
    monkeypatch: pytest.MonkeyPatch,
    context: object,
) -> None:
    listener.answers["/health"] = answer
    _configure(monkeypatch, listener.url, listener.ca)
    assert hook.handler(_event(1), context) == {"hookStatus": "FAILED"}


def test_timeout_retries_then_fails(monkeypatch: pytest.MonkeyPatch, context: object) -> None:
    # Accepts TCP connections and never speaks: the TLS handshake runs into the timeout.
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        url = f"https://127.0.0.1:{silent.getsockname()[1]}"
        _configure(monkeypatch, url, None, TIMEOUT_S="0.3")
        assert hook.handler(_event(1), context)["hookStatus"] == "IN_PROGRESS"
        assert hook.handler(_event(3), context) == {"hookStatus": "FAILED"}
    finally:
        silent.close()


def test_a_certificate_for_another_name_fails_without_retry(
    listener: StandInListener, monkeypatch: pytest.MonkeyPatch, context: object
) -> None:
    _configure(monkeypatch, listener.url, listener.ca, SERVER_NAME="other.beacon.test")
    assert hook.handler(_event(1), context) == {"hookStatus": "FAILED"}
    assert listener.hosts == []  # no request was sent over an unverified connection


def test_an_untrusted_certificate_fails(
    listener: StandInListener, monkeypatch: pytest.MonkeyPatch, context: object
) -> None:
    # The system trust store does not know the test CA.
    _configure(monkeypatch, listener.url, None)
    assert hook.handler(_event(1), context) == {"hookStatus": "FAILED"}


def test_bad_settings_fail_the_hook_and_name_the_field(
    monkeypatch: pytest.MonkeyPatch, context: object
) -> None:
    monkeypatch.setenv("BEACON_BLUEGREEN_TEST_URL", "http://internal-alb:8443")
    monkeypatch.setenv("BEACON_BLUEGREEN_SERVER_NAME", SERVER_NAME)
    with pytest.raises(ValidationError, match="test_url"):
        BlueGreenCheckSettings()
    hook.get_settings.cache_clear()
    assert hook.handler(_event(), context) == {"hookStatus": "FAILED"}
    monkeypatch.setenv("BEACON_BLUEGREEN_TEST_URL", "https://internal-alb:8443")
    monkeypatch.setenv("BEACON_BLUEGREEN_PATHS", json.dumps(["ready"]))
    with pytest.raises(ValidationError, match="paths"):
        BlueGreenCheckSettings()
    hook.get_settings.cache_clear()


@pytest.mark.parametrize(
    ("event", "attempt"),
    [
        ({}, 1),
        ({"hookDetails": {"attempt": 4}}, 4),
        ({"hookDetails": json.dumps({"attempt": 2})}, 2),
        ({"hookDetails": "not json"}, 1),
        ({"hookDetails": {"attempt": "7"}}, 1),
        ({"hookDetails": {"attempt": True}}, 1),
        ({"hookDetails": {"attempt": 0}}, 1),
    ],
)
def test_attempt_comes_back_in_hook_details(event: dict, attempt: int) -> None:
    assert attempt_of(event) == attempt


def test_verdict_needs_every_route() -> None:
    good, warming = Probe("/ready", True, False, "200"), Probe("/health", False, True, "503")
    assert verdict([good], attempt=1, max_attempts=1, retry_delay_s=5) == {
        "hookStatus": "SUCCEEDED"
    }
    assert verdict([good, warming], attempt=1, max_attempts=1, retry_delay_s=5) == {
        "hookStatus": "FAILED"
    }

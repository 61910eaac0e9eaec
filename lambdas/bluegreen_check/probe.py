"""One HTTPS request per route to the test listener, and the hook status ECS expects from them."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

HookStatus = Literal["SUCCEEDED", "FAILED", "IN_PROGRESS"]
# What a load balancer or a starting app answers while the green tasks warm up: worth waiting.
WARMING_STATUSES = frozenset({502, 503, 504})
USER_AGENT = "beacon-bluegreen-check"


@dataclass(frozen=True)
class Probe:
    """The answer of one route: good, worth another try later, or a definite failure."""

    path: str
    ok: bool
    retryable: bool
    detail: str


class _VerifiedConnection(http.client.HTTPSConnection):
    """Connects to the ALB's own DNS name, verifies the certificate against `server_name`.

    The certificate is issued for the backend domain, which need not resolve to the ALB (API
    Gateway reaches it through the VPC link), so the name to dial and the name to verify differ.
    """

    def __init__(
        self, host: str, port: int, *, server_name: str, context: ssl.SSLContext, timeout: float
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._server_name = server_name
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self.host, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(raw, server_hostname=self._server_name)
        except BaseException:
            raw.close()
            raise


def tls_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """Certificate and hostname verification on; the system trust store unless a bundle is given."""
    context = ssl.create_default_context(cafile=ca_bundle)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def probe(
    test_url: str, path: str, *, server_name: str, timeout_s: float, context: ssl.SSLContext
) -> Probe:
    """GET `path` on the test listener; 200 with a JSON object body is the only good answer."""
    url = urlsplit(test_url)
    if url.scheme != "https" or not url.hostname:
        return Probe(path, False, False, f"test_url {test_url!r} is not an https URL")
    connection = _VerifiedConnection(
        url.hostname,
        url.port or 443,
        server_name=server_name,
        context=context,
        timeout=timeout_s,
    )
    try:
        connection.request("GET", path, headers={"Host": server_name, "User-Agent": USER_AGENT})
        response = connection.getresponse()
        body = response.read(64 * 1024)
        status = response.status
    except ssl.SSLCertVerificationError as exc:
        # A wrong certificate will not fix itself while we wait.
        return Probe(path, False, False, f"TLS verification failed: {exc.verify_message}")
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        return Probe(path, False, True, f"no answer: {type(exc).__name__}: {exc}")
    finally:
        connection.close()
    if status == 200:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return Probe(path, True, False, "200")
        return Probe(path, False, False, "200 without a JSON object body (not the Beacon API)")
    return Probe(path, False, status in WARMING_STATUSES, f"HTTP {status}: {body[:200]!r}")


def verdict(
    probes: list[Probe], *, attempt: int, max_attempts: int, retry_delay_s: int
) -> dict[str, Any]:
    """The hook response: SUCCEEDED, FAILED (ECS rolls back), or IN_PROGRESS to be called again.

    The attempt number travels in hookDetails, which ECS hands back on the next invocation.
    """
    if all(p.ok for p in probes):
        return {"hookStatus": "SUCCEEDED"}
    if any(not p.ok and not p.retryable for p in probes) or attempt >= max_attempts:
        return {"hookStatus": "FAILED"}
    return {
        "hookStatus": "IN_PROGRESS",
        "callBackDelay": retry_delay_s,
        "hookDetails": {"attempt": attempt + 1},
    }


def attempt_of(event: dict[str, Any]) -> int:
    """The attempt number this invocation is (1 unless an IN_PROGRESS answer set it)."""
    details = event.get("hookDetails") if isinstance(event, dict) else None
    if isinstance(details, str):
        try:
            details = json.loads(details)
        except ValueError:
            details = None
    value = details.get("attempt") if isinstance(details, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else 1

"""ASGI middleware: one JSON access-log line and one metrics sample per request, no bodies."""

from __future__ import annotations

import json
import logging
import time
import traceback
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.serving.metrics import Metrics

log = logging.getLogger("services.serving.access")
error_log = logging.getLogger("services.serving.errors")

UNMATCHED_ROUTE = "unmatched"
#: Sent with every response: JSON only, never framed, never cached, no referrer leaks.
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


def route_template(scope: Scope) -> str:
    """The matched route's path template ("/items/{id}"), never the raw path.

    Raw paths would give the metrics one series per id and could carry personal data.
    """
    route = scope.get("route")
    return getattr(route, "path", None) or UNMATCHED_ROUTE


class RequestMiddleware:
    """Times each request, logs it, records metrics, and turns unhandled errors into 500s.

    Unhandled exceptions are caught here rather than re-raised to the server, because the
    server's own error log prints the exception message, which may quote request text.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in present]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except HTTPException as exc:
            # A client error raised below the exception handlers: the body-size limit raises
            # its 413 from `receive`. It is the client's fault: counted as such, not an ERROR.
            status = exc.status_code
            if not response_started:
                await _send_json(send, status, {"detail": exc.detail}, request_id, exc.headers)
        except Exception as exc:
            status = 500
            # Frames and the exception type only: the message may contain request text.
            error_log.error(
                "unhandled error",
                extra={
                    "request_id": request_id,
                    "route": route_template(scope),
                    "error": type(exc).__name__,
                    "stack": "".join(traceback.format_tb(exc.__traceback__)),
                },
            )
            if not response_started:
                await _send_json(send, 500, {"detail": "internal server error"}, request_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            method = scope.get("method", "")
            self.metrics.observe(route, method, status, seconds)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")[:64]
            # Only plain tokens are echoed into logs and headers.
            if candidate and all(c.isalnum() or c in "-_." for c in candidate):
                return candidate
    return uuid.uuid4().hex


async def _send_json(
    send: Send,
    status: int,
    body: dict[str, Any],
    request_id: str,
    extra: dict[str, str] | None = None,
) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *SECURITY_HEADERS,
        (b"x-request-id", request_id.encode()),
    ]
    headers += [(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})

"""ASGI middleware: one JSON access-log line and one metrics sample per request, no bodies."""

from __future__ import annotations

import json
import logging
import time
import traceback
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.serving.metrics import Metrics

log = logging.getLogger("services.serving.access")
error_log = logging.getLogger("services.serving.errors")

UNMATCHED_ROUTE = "unmatched"


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
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
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


async def _send_json(send: Send, status: int, body: dict[str, Any], request_id: str) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})

"""ASGI middleware: one JSON access-log line and one metrics sample per request, no bodies."""

from __future__ import annotations

import json
import logging
import time
import traceback
import uuid
from collections.abc import Iterator
from typing import Any

from starlette.exceptions import HTTPException
from starlette.middleware import body_limit
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.serving.deprecation import deprecation_headers
from services.serving.metrics import Metrics

log = logging.getLogger("services.serving.access")
error_log = logging.getLogger("services.serving.errors")

UNMATCHED_ROUTE = "unmatched"
# Starlette has no public type for "the body limiter already answered 413" (FastAPI looks it
# up the same way); an empty tuple matches nothing if a release renames it.
_LIMIT_RESPONSE_SENT: Any = getattr(body_limit, "_RequestBodyLimitResponseSent", ())
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
                route = scope.get("route")
                if getattr(route, "deprecated", False):
                    headers += deprecation_headers(route.path)  # type: ignore[union-attr]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            client_error = _client_error(exc)
            if client_error is not None:
                # The body-size limit raises its 413 from `receive`, below the exception
                # handlers; the limiter around this middleware answers it. The client's fault:
                # counted as a 413, never logged as an error.
                status = client_error.status_code
                raise
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


def _client_error(exc: BaseException) -> HTTPException | None:
    """The 4xx HTTPException `exc` is (or that is all an exception group holds), else None.

    Starlette's body limiter signals a 413 it has already sent with a private exception type.
    """
    leaves = list(_leaves(exc))
    if leaves and all(isinstance(e, _LIMIT_RESPONSE_SENT) for e in leaves):
        return HTTPException(413)
    errors = [e for e in leaves if isinstance(e, HTTPException) and e.status_code < 500]
    return errors[0] if errors and len(errors) == len(leaves) else None


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


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
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *SECURITY_HEADERS,
        (b"x-request-id", request_id.encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})

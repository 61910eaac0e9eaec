"""Map domain errors to HTTP responses; validation errors never echo the submitted text."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.core.errors import BeaconError, DatabaseUnavailable
from services.serving.middleware import route_template
from services.serving.text_fields import ONE_LINE_PATTERN, OPTIONAL_TEXT_PATTERN, TEXT_PATTERN

log = logging.getLogger(__name__)

#: Seconds a client should wait before retrying a 503.
RETRY_AFTER = "5"


def top_k_error(top_k: int, max_top_k: int) -> RequestValidationError:
    """The 422 for a top_k above the configured maximum (a setting, so not in the schema)."""
    return RequestValidationError(
        [
            {
                "type": "less_than_equal",
                "loc": ("body", "top_k"),
                "msg": f"Input should be less than or equal to {max_top_k}",
                "input": top_k,
                "ctx": {"le": max_top_k},
            }
        ]
    )


_PATTERN_MESSAGES = {
    ONE_LINE_PATTERN: "must not contain NUL or other control characters",
    OPTIONAL_TEXT_PATTERN: "must not contain NUL or other control characters",
    TEXT_PATTERN: "must contain text, and no NUL or other control characters "
    "(tab, newline and carriage return are fine)",
}


def _clean(error: dict[str, Any]) -> dict[str, Any]:
    # `input` would echo resume text back (and into any proxy log); ctx can hold it too.
    out = {"type": error.get("type"), "loc": list(error.get("loc", ())), "msg": error.get("msg")}
    ctx = error.get("ctx")
    if isinstance(ctx, dict) and ctx.get("pattern") in _PATTERN_MESSAGES:
        out["msg"] = _PATTERN_MESSAGES[ctx["pattern"]]
    if isinstance(ctx, dict):
        safe = {k: v for k, v in ctx.items() if isinstance(v, int | float) and k != "error"}
        if safe:
            out["ctx"] = safe
    return out


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"detail": [_clean(e) for e in exc.errors()]}, status_code=422)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    # The one mapping of domain errors: each BeaconError carries its status and headers.
    assert isinstance(exc, BeaconError)
    status = exc.status
    headers = dict(exc.headers)
    if status == 503:
        headers.setdefault("Retry-After", RETRY_AFTER)
    if status >= 500:
        log.warning(
            "request failed",
            extra={
                "route": route_template(request.scope),
                "status": status,
                "error": type(exc).__name__,
            },
        )
    return JSONResponse({"detail": exc.public_detail}, status_code=status, headers=headers or None)


async def _operational_error(request: Request, exc: Exception) -> JSONResponse:
    # A connection that dies outside Database.connection() (e.g. in a collector) still means
    # the database is down for this request, not a bug.
    return await _domain_error(request, DatabaseUnavailable("database unavailable"))


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    # The last line of defence behind the request schemas: a value PostgreSQL refuses (NUL,
    # out-of-range number) is the client's input, not a server fault. The driver's message
    # quotes the value, so only the kind is returned.
    log.info(
        "database refused request data",
        extra={"route": route_template(request.scope), "error": type(exc).__name__},
    )
    return JSONResponse({"detail": "invalid input value"}, status_code=422)


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    log.info(
        "database constraint refused the request",
        extra={"route": route_template(request.scope), "error": type(exc).__name__},
    )
    return JSONResponse({"detail": "conflicts with stored data"}, status_code=409)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names only the first route matching the path; a path served by several
        # routes (GET and POST /v1/experiments) must list all their methods.
        headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


def allowed_methods(app: Any, scope: Any) -> list[str]:
    """Every method the OpenAPI document lists for the request's path (HEAD with GET)."""
    from starlette.routing import compile_path

    methods: set[str] = set()
    for template, operations in app.openapi()["paths"].items():
        regex, _, _ = compile_path(template)
        if regex.match(scope["path"]):
            methods |= {m.upper() for m in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(BeaconError, _domain_error)
    app.add_exception_handler(psycopg.OperationalError, _operational_error)
    app.add_exception_handler(psycopg.DataError, _data_error)
    app.add_exception_handler(psycopg.IntegrityError, _integrity_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)

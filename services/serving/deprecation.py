"""Versioned routes: every workload route lives under /v1; its old path is a deprecated alias."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, TypeVar

from fastapi import APIRouter

API_PREFIX = "/v1"
#: When the unversioned paths were deprecated (RFC 9745 `Deprecation`: a structured date).
DEPRECATED_AT = datetime(2026, 11, 27, tzinfo=UTC)
#: When they stop answering: one release after the /v1 routes shipped (RFC 8594 `Sunset`).
SUNSET_AT = datetime(2027, 5, 31, tzinfo=UTC)
#: Old path -> its /v1 successor, filled as the routers register their routes.
ALIASES: dict[str, str] = {}

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def versioned(
    router: APIRouter, method: str, path: str, **kwargs: Any
) -> Callable[[Endpoint], Endpoint]:
    """Register an endpoint at `/v1<path>` and, marked deprecated, at `<path>` (one release).

    `router` must have no prefix: both paths are spelled out here so each alias is listed
    once in ALIASES and in the OpenAPI document (as deprecated).
    """

    def register(endpoint: Endpoint) -> Endpoint:
        successor = API_PREFIX + path
        router.add_api_route(successor, endpoint, methods=[method], **kwargs)
        alias_kwargs = {**kwargs, "operation_id": f"{endpoint.__name__}_deprecated_alias"}
        description = (endpoint.__doc__ or "").strip()
        alias_kwargs["description"] = (
            f"**Deprecated** alias of `{method} {successor}` (sunset "
            f"{SUNSET_AT.date().isoformat()}); same request and response.\n\n{description}"
        )
        router.add_api_route(path, endpoint, methods=[method], deprecated=True, **alias_kwargs)
        ALIASES[path] = successor
        return endpoint

    return register


def deprecation_headers(path: str) -> list[tuple[bytes, bytes]]:
    """The Deprecation, Sunset and Link headers of a response from a deprecated alias."""
    successor = ALIASES.get(path)
    headers = [
        (b"deprecation", f"@{int(DEPRECATED_AT.timestamp())}".encode()),
        (b"sunset", format_datetime(SUNSET_AT, usegmt=True).encode()),
    ]
    if successor is not None:
        headers.append((b"link", f'<{successor}>; rel="successor-version"'.encode()))
    return headers

"""Who is calling the events API: the X-Beacon-Client header API Gateway sets in deployed mode.

In AWS, API Gateway authenticates callers with IAM SigV4 and passes the caller's identity in
X-Beacon-Client (a client cannot set it: the gateway overwrites it). With
BEACON_REQUIRE_CLIENT_IDENTITY on, a user id belongs to the first client that asked for it,
and lists, feedback and dismissals of that user are refused (403) to every other client.
Locally and in the demo the setting is off: anyone may read any user's list.
"""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import Depends, Header, Request

from services.core.errors import Forbidden, Unauthenticated
from services.serving.text_fields import ONE_LINE_PATTERN

HEADER = "X-Beacon-Client"


def client_identity(
    request: Request,
    x_beacon_client: Annotated[
        str | None,
        Header(
            max_length=256,
            pattern=ONE_LINE_PATTERN,
            description="The authenticated caller, set by API Gateway (deployed mode only).",
        ),
    ] = None,
) -> str | None:
    """The calling client, or None when identities are not required (FastAPI dependency)."""
    if not request.app.state.context.settings.require_client_identity:
        return None
    if not x_beacon_client:
        raise Unauthenticated(f"missing {HEADER} header", challenge=HEADER)
    return x_beacon_client


ClientDep = Annotated[str | None, Depends(client_identity)]


def bind_user(conn: psycopg.Connection[Any], client: str | None, user_id: str) -> None:
    """Bind `user_id` to `client` on first use; 403 if another client owns it."""
    if client is None:
        return
    conn.execute(
        "INSERT INTO event_user_clients (user_id, client_id) VALUES (%s, %s) "
        "ON CONFLICT (user_id) DO NOTHING",
        (user_id, client),
    )
    _check(conn, client, user_id)


def check_list_owner(conn: psycopg.Connection[Any], client: str | None, user_id: str) -> None:
    """403 unless the list's user belongs to `client` (no-op when identities are off)."""
    if client is not None:
        _check(conn, client, user_id)


def _check(conn: psycopg.Connection[Any], client: str, user_id: str) -> None:
    row = conn.execute(
        "SELECT client_id FROM event_user_clients WHERE user_id = %s", (user_id,)
    ).fetchone()
    if row is None or row[0] != client:
        # Same answer whether the user is unknown or another client's: nothing leaks.
        raise Forbidden("this user's lists belong to another client")

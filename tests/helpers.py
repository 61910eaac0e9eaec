"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from services.core.migrations import migrate


def fresh_database(admin_url: str, prefix: str = "t") -> str:
    """Create and migrate an empty database on the test server; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = admin_url.replace("/postgres?", f"/{name}?")
    try:
        migrate(url)
    except BaseException:
        drop_database(admin_url, name)  # a failed migration must not leave the database behind
        raise
    return url


def database_name(url: str) -> str:
    """The database a URL names (the embedded server's URLs carry the socket folder as `host`,
    so the name is not simply what follows the last slash)."""
    from psycopg.conninfo import conninfo_to_dict

    return str(conninfo_to_dict(url)["dbname"])


def database_names(admin_url: str) -> set[str]:
    """Names of the non-template databases on the test server."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE NOT datistemplate").fetchall()
    return {row[0] for row in rows}


@contextmanager
def temporary_database(admin_url: str) -> Iterator[str]:
    """A fresh, migrated database (see fresh_database), dropped on exit."""
    url = fresh_database(admin_url)
    try:
        yield url
    finally:
        drop_database(admin_url, database_name(url))


def drop_database(admin_url: str, name: str) -> None:
    """Drop a test database, closing any session still connected to it."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextmanager
def embedded_home() -> Iterator[Path]:
    """A Beacon home outside pytest's temp root; the embedded server is stopped on exit.

    The server runs as a separate system user when tests run as root, and every new pytest
    session resets its temp root to mode 0700, which would lock a running server out of its
    own data folder; a folder of our own keeps its permissions.
    """
    from services.core.embedded import stop_embedded

    home = Path(tempfile.mkdtemp(prefix="beacon-test-"))
    try:
        yield home
    finally:
        if (home / "pgdata" / "postmaster.pid").exists():
            stop_embedded(home / "pgdata")
        shutil.rmtree(home, ignore_errors=True)


def free_port() -> int:
    """A free loopback port."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_in_thread(app: Any, join_timeout: float = 30.0) -> Iterator[str]:
    """Run `app` under a real uvicorn server on loopback in a thread; yields its base URL."""
    import threading
    import time

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=join_timeout)


def hammer(
    base_url: str,
    path: str,
    body: dict[str, Any],
    record: Callable[[dict[str, Any]], Any],
    stop: Any,
    seen: list,
    failures: list,
    timeout: float = 20.0,
) -> None:
    """POST `body` to `path` until `stop` is set: `record(payload)` of each 200 goes to
    `seen`, anything else (errors, other statuses) to `failures`. Run one per thread."""
    import httpx

    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        while not stop.is_set():
            try:
                response = client.post(path, json=body)
            except httpx.HTTPError as exc:
                failures.append(repr(exc))
                continue
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text[:200]}")
                continue
            seen.append(record(response.json()))


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, step: float = 0.05) -> None:
    """Poll `predicate` until it holds; fail the test after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)


def cli_env(database_url: str, home: Path, **extra: str) -> dict[str, str | None]:
    """The environment of a `beacon` command on a test database and a private home."""
    env: dict[str, str | None] = {
        k: v for k, v in os.environ.items() if not k.startswith("BEACON_")
    }
    env["MLFLOW_TRACKING_URI"] = None  # unset: the store under BEACON_HOME
    env.update(
        {
            "DATABASE_URL": database_url,
            "BEACON_HOME": str(home),
            "BEACON_LOG_FORMAT": "text",
            "BEACON_LOG_LEVEL": "WARNING",
            "BEACON_TRAIN_THREADS": "1",
            **extra,
        }
    )
    return env

"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from services.core.migrations import migrate


def fresh_database(admin_url: str, prefix: str = "t") -> str:
    """Create and migrate an empty database on the test server; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = admin_url.replace("/postgres?", f"/{name}?")
    migrate(url)
    return url


@contextmanager
def temporary_database(admin_url: str) -> Iterator[str]:
    """A fresh, migrated database (see fresh_database), dropped on exit."""
    url = fresh_database(admin_url)
    try:
        yield url
    finally:
        drop_database(admin_url, url.rsplit("/", 1)[1].split("?")[0])


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

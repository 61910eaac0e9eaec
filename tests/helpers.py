"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import uuid

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

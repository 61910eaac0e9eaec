"""The bootstrap SQL against the embedded PostgreSQL + pgvector server of the test session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from lambdas.db_bootstrap.database import bootstrap


@pytest.fixture
def fresh_database(pg_admin_url: str) -> Iterator[tuple[str, str]]:
    """An empty database (URL) and the name of the admin role that owns it."""
    name = f"boot_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        owner = conn.execute("SELECT current_user").fetchone()[0]
    yield pg_admin_url.replace("/postgres?", f"/{name}?"), owner
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def test_bootstrap_is_idempotent_and_the_app_role_is_least_privilege(
    fresh_database: tuple[str, str],
) -> None:
    url, owner = fresh_database
    dbname = conninfo_to_dict(url)["dbname"]
    role = f"app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        first = bootstrap(conn, app_username=role, app_password="pw-1", dbname=dbname, owner=owner)
        again = bootstrap(conn, app_username=role, app_password="pw-2", dbname=dbname, owner=owner)
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
        assert conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
    assert first[:2] == ["0001_extensions", "0002_jobs"] and again == []
    assert sorted(versions) == first
    app = {**conninfo_to_dict(url), "user": role, "password": "pw-2"}
    with psycopg.connect(**app, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO job_postings (job_id, title, company, location, seniority, description,"
            " content_hash) VALUES ('j1', 't', 'c', 'l', 'senior', 'd', 'h')"
        )
        assert conn.execute("SELECT count(*) FROM job_postings").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE not_allowed (x int)")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))

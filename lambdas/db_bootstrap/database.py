"""The SQL the bootstrap runs as the master user: pgvector, the app role, grants, migrations."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from services.core.migrations import Migration, apply_migrations, discover

DML = "SELECT, INSERT, UPDATE, DELETE"


def migration_files(folder: Path | None = None) -> list[Migration]:
    """The migrations services/core applies, in the same (name) order."""
    return discover(folder)


def ensure_vector_extension(conn: psycopg.Connection) -> None:
    """Install pgvector, then move it to the newest version the server offers."""
    with conn.transaction():
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("ALTER EXTENSION vector UPDATE")


def ensure_app_role(
    conn: psycopg.Connection, *, username: str, password: str, dbname: str, owner: str
) -> None:
    """Create or update the least-privilege login role: DML on the schema, no DDL.

    Default privileges make tables created by later migrations (run as `owner`) usable too.
    """
    role = sql.Identifier(username)
    with conn.transaction():
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (username,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL(
                verb + " ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}"
            ).format(role, sql.Literal(password))
        )
        statements = [
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(dbname), role),
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
            sql.SQL("GRANT " + DML + " ON ALL TABLES IN SCHEMA public TO {}").format(role),
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role),
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT "
                + DML
                + " ON TABLES TO {}"
            ).format(sql.Identifier(owner), role),
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public "
                "GRANT USAGE, SELECT ON SEQUENCES TO {}"
            ).format(sql.Identifier(owner), role),
        ]
        for statement in statements:
            conn.execute(statement)


def bootstrap(
    conn: psycopg.Connection, *, app_username: str, app_password: str, dbname: str, owner: str
) -> list[str]:
    """Run every step (each idempotent, so a retried deploy is safe); return versions applied."""
    ensure_vector_extension(conn)
    applied = apply_migrations(conn)
    ensure_app_role(conn, username=app_username, password=app_password, dbname=dbname, owner=owner)
    return applied

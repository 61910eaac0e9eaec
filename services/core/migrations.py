"""Versioned SQL migrations: applied in name order, once each, recorded in schema_migrations.

Each package under `services/` owns its SQL in its own `migrations/` folder (core the
extensions, jobs its tables, the recommender the events tables, serving the prediction log).
The runner finds them by that convention, without importing the packages, and applies every
file in one global name order: the version is the file name, so where a file lives does not
change its identity, and a database migrated before the files moved applies nothing again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

SERVICES_PACKAGE = "services"
# Any constant works; it only has to be the same in every process that migrates.
MIGRATION_LOCK_ID = 0x6265_6163_6F6E


@dataclass(frozen=True)
class Migration:
    """One SQL file; its version is the file name without `.sql`."""

    version: str
    sql: str


def migration_files() -> list[Path]:
    """Every package's SQL files (`services/*/migrations/*.sql`), in version (name) order."""
    root = Path(str(resources.files(SERVICES_PACKAGE)))
    files = sorted(root.glob("*/migrations/*.sql"), key=lambda p: p.name)
    seen: dict[str, Path] = {}
    for path in files:
        if path.stem in seen:
            raise RuntimeError(
                f"migration version {path.stem!r} exists twice: {seen[path.stem]} and {path}"
            )
        seen[path.stem] = path
    return files


def discover(folder: Path | None = None) -> list[Migration]:
    """All migrations in version order (of one folder only, when `folder` is given)."""
    files = sorted(folder.glob("*.sql")) if folder is not None else migration_files()
    return [Migration(p.stem, p.read_text()) for p in files]


def apply_migrations(conn: psycopg.Connection, folder: Path | None = None) -> list[str]:
    """Apply pending migrations, each in its own transaction; return the versions applied.

    An advisory lock serialises concurrent starts (API replicas, jobs), so each file runs once.
    """
    conn.autocommit = True
    if not pending(conn, folder):
        # Nothing to do, and nothing attempted: in AWS the app role may not create tables
        # (the bootstrap Lambda migrates as the owner), so an up-to-date start must not try.
        conn.autocommit = False
        return []
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    applied: list[str] = []
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
    try:
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for migration in discover(folder):
            if migration.version in done:
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version) VALUES (%s)", (migration.version,)
                )
            applied.append(migration.version)
            log.info("applied migration", extra={"version": migration.version})
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))
        conn.autocommit = False
    return applied


def pending(conn: psycopg.Connection, folder: Path | None = None) -> list[str]:
    """Versions not yet recorded in schema_migrations (all of them on an empty database)."""
    exists = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0]
    done = (
        {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        if exists
        else set()
    )
    return [m.version for m in discover(folder) if m.version not in done]


def migrate(url: str) -> list[str]:
    """Open a dedicated connection and apply pending migrations."""
    with psycopg.connect(url) as conn:
        return apply_migrations(conn)

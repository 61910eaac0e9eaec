"""`beacon db ...`: migrate the database and show its state."""

from __future__ import annotations

import json

import typer

from services.core.cli_support import cli_job, setup
from services.core.database import resolve_database_url
from services.core.migrations import discover, migrate
from services.core.settings import CoreSettings

app = typer.Typer(help="Database: migrations and status.", no_args_is_help=True)


@app.command("migrate")
@cli_job
def migrate_command() -> None:
    """Apply pending SQL migrations (starts the embedded server when no DATABASE_URL is set)."""
    settings = CoreSettings()
    setup(settings)
    applied = migrate(resolve_database_url(settings))
    typer.echo(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")


@app.command("status")
@cli_job
def status_command() -> None:
    """Print applied migrations and document counts as JSON."""
    import psycopg

    settings = CoreSettings()
    setup(settings)
    url = resolve_database_url(settings)
    with psycopg.connect(url) as conn:
        migrated = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0]
        applied = (
            [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
            if migrated
            else []
        )
        counts = {
            table: conn.execute(f"SELECT count(*), count(embedding) FROM {table}").fetchone()
            for table in ("job_postings", "resumes")
            if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]
        }
    pending = [m.version for m in discover() if m.version not in applied]
    report = {
        "applied": applied,
        "pending": pending,
        "documents": {t: {"rows": c[0], "embedded": c[1]} for t, c in counts.items()},
    }
    typer.echo(json.dumps(report, indent=2))

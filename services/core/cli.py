"""`beacon db ...`: migrate the database and show its state."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import typer

from services.core.cli_support import cli_job, setup
from services.core.database import resolve_database_url
from services.core.migrations import discover, migrate
from services.core.settings import CoreSettings

app = typer.Typer(help="Database: migrations and status.", no_args_is_help=True)

#: Extra sections of `db status`, added by the workloads (core knows none of their tables):
#: name -> a function of an open connection returning JSON-able data.
StatusSection = Callable[[Any], object]
_STATUS_SECTIONS: dict[str, StatusSection] = {}


def register_status_section(name: str, section: StatusSection) -> None:
    """Add a section to `beacon db status` (services/cli.py registers the workloads')."""
    _STATUS_SECTIONS[name] = section


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
    """Print applied and pending migrations, and the workloads' sections, as JSON."""
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
        sections = {name: section(conn) for name, section in _STATUS_SECTIONS.items()}
    pending = [m.version for m in discover() if m.version not in applied]
    report = {"applied": applied, "pending": pending, **sections}
    typer.echo(json.dumps(report, indent=2))

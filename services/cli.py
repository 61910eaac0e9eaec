"""The `beacon` command: one entry point for every job, locally, in containers and in DAGs."""

from __future__ import annotations

import typer

from services.core.cli import app as db_app
from services.demo import demo_command
from services.drift.cli import app as drift_app
from services.drift.cli import simulate_command
from services.embeddings.cli import app as embed_app
from services.jobs.cli import app as data_app
from services.ops.cli import report_command
from services.recommender.cli import app as events_app
from services.serving.cli import serve_command
from services.training.cli import model_app, train_app

app = typer.Typer(
    help="Beacon: MLOps platform jobs. Runs on embedded defaults unless configured "
    "(see README: Configuration).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_app, name="db")
app.add_typer(data_app, name="data")
app.add_typer(embed_app, name="embed")
app.add_typer(train_app, name="train")
app.add_typer(model_app, name="model")
app.add_typer(events_app, name="events")
app.add_typer(drift_app, name="drift")
app.command("simulate")(simulate_command)
app.command("serve")(serve_command)
app.command("demo")(demo_command)
app.command("report")(report_command)


if __name__ == "__main__":
    app()

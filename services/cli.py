"""The `beacon` command: one entry point for every job, locally, in containers and in DAGs."""

from __future__ import annotations

import typer

from services.core.cli import app as db_app
from services.core.cli import register_status_section
from services.demo import demo_command
from services.drift.cli import app as drift_app
from services.drift.cli import simulate_command
from services.embeddings.cli import app as embed_app
from services.jobs import embedding as _jobs_documents  # noqa: F401  (registers the kinds)
from services.jobs.cli import app as data_app
from services.jobs.embedding_check import check_command as embed_check_command
from services.jobs.match_cli import train_match_command
from services.jobs.store import status_section as jobs_status_section
from services.ops.cli import report_command
from services.recommender.cli import app as events_app
from services.recommender.cli import train_events_command
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
# Composition: core and embeddings know no workload, so the workloads' parts join here. The
# jobs post-refresh gate joins the embeddings group, the jobs document counts `db status`;
# importing services.jobs.embedding (above) registers postings and resumes for `embed refresh`.
embed_app.command("check")(embed_check_command)
register_status_section("documents", jobs_status_section)
# Every model is trained under `beacon train`; the match classifier's and the events
# recommenders' commands live with their workloads (training does not import them).
train_app.command("match")(train_match_command)
train_app.command("events")(train_events_command)
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

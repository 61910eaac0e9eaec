"""`beacon report`: write the operator page (models, drift timeline, experiments, refresh)."""

from __future__ import annotations

from typing import Annotated

import typer

from services.core.cli_support import cli_job, setup
from services.core.storage import Storage, join

#: Hours after which the refresh shows as stale (the BeaconEmbeddingRefreshStale alert's limit).
REFRESH_STALE_HOURS = 26.0


@cli_job
def report_command(
    out: Annotated[
        str | None,
        typer.Option(help="File or s3:// URI to write. Default: <reports>/ops/index.html."),
    ] = None,
    no_database: Annotated[
        bool,
        typer.Option(
            "--no-database", help="Skip experiments and document counts (no database needed)."
        ),
    ] = False,
) -> None:
    """Write one static HTML page: served models and versions with their metrics, the drift
    timeline, running experiments with conversions, confidence intervals and SRM status, and
    the freshness of the nightly refresh. Plots are inline; the page needs no network."""
    from services.core.database import Database
    from services.drift.settings import DriftSettings
    from services.ops.page import render
    from services.ops.snapshot import gather
    from services.recommender.settings import RecommenderSettings
    from services.serving.settings import ServingSettings

    serving = ServingSettings()
    setup(serving)
    # The page shows what the API serves and what the jobs wrote, under the same home.
    drift = DriftSettings(home=serving.home, storage_uri=serving.storage_uri)
    events = RecommenderSettings(home=serving.home, mlflow_tracking_uri=serving.mlflow_tracking_uri)
    names = [serving.readmission_model_name, serving.match_model_name, events.events_model_name]
    storage = Storage(serving.aws_region)
    typer.echo("reading the registry, drift reports and the database ...", err=True)
    database = None if no_database else Database.from_settings(serving, run_migrations=False)
    try:
        snapshot = gather(
            model_names=names,
            registry_settings=serving,
            reports_uri=drift.resolved_reports_uri,
            storage_uri=serving.resolved_storage_uri,
            database=database,
            storage=storage,
        )
    finally:
        if database is not None:
            database.close()
    page = render(
        snapshot,
        thresholds={
            "share": drift.drift_column_share,
            "prediction": drift.drift_prediction_threshold,
            "refresh_hours": REFRESH_STALE_HOURS,
        },
    )
    target = out or join(drift.resolved_reports_uri, "ops", "index.html")
    storage.write_bytes(target, page.encode())
    typer.echo(
        f"wrote {target}: {len(snapshot.models)} models, {len(snapshot.drift)} drift checks, "
        f"{len(snapshot.experiments)} running experiments"
    )

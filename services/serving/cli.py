"""`beacon serve`: run the API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from services.core.cli_support import cli_job, setup
from services.serving.settings import ServingSettings


@cli_job
def serve_command(
    host: Annotated[str | None, typer.Option(help="Bind address (default: BEACON_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: BEACON_PORT).")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: BEACON_WORKERS).")
    ] = None,
) -> None:
    """Serve the API (jobs endpoints, /health, /ready, /metrics, /docs)."""
    import uvicorn

    from services.core.embedded import stop_on_signals

    settings = ServingSettings()
    setup(settings)
    # The embedded server starts inside uvicorn's lifespan, in a worker thread where signal
    # handlers cannot be set; set them now, so a SIGTERM after uvicorn's graceful shutdown
    # still exits through atexit and stops the server.
    stop_on_signals()
    workers = workers or settings.workers
    if workers > 1 and settings.database_url is None and not settings.db_secret_arn:
        # This process owns the embedded server, so it outlives every worker and is stopped
        # when this process exits (after the workers, whose handles are pruned then).
        from services.core.database import resolve_database_url

        resolve_database_url(settings)
    uvicorn.run(
        "services.serving.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=None,  # keep Beacon's logging configuration
        access_log=False,  # the app logs one JSON line per request itself
        server_header=False,  # no software banner
    )

"""`beacon demo`: the whole jobs workload on embedded defaults, from empty folder to served API."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from typing import Annotated

import typer

from services.core.cli_support import ProgressPrinter, cli_job, setup
from services.core.database import Database
from services.serving.settings import ServingSettings

log = logging.getLogger(__name__)


def _say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


@cli_job
def demo_command(
    postings: Annotated[int, typer.Option(min=1, help="Sample postings if none loaded.")] = 5000,
    resumes: Annotated[int, typer.Option(min=1, help="Sample resumes if none are loaded.")] = 1000,
    host: Annotated[str | None, typer.Option(help="Bind address (default: BEACON_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: BEACON_PORT).")] = None,
    serve: Annotated[bool, typer.Option(help="Serve the API at the end (Ctrl-C stops).")] = True,
) -> None:
    """Start the database, load the sample corpus if empty, refresh embeddings, serve the API."""
    from services.embeddings.encoder import get_encoder
    from services.embeddings.refresh import refresh_embeddings
    from services.jobs.corpus import generate_corpus
    from services.jobs.store import count_documents, upsert_postings, upsert_resumes

    settings = ServingSettings()
    setup(settings)
    where = "DATABASE_URL" if settings.database_url else f"embedded server in {settings.pgdata}"
    _say(f"database: {where}")
    db = Database.from_settings(settings)
    try:
        with db.connection() as conn:
            counts = count_documents(conn)
            if counts.get("postings", 0) == 0:
                _say(f"no postings loaded: generating {postings} postings and {resumes} resumes")
                corpus = generate_corpus(n_postings=postings, n_resumes=resumes)
                upsert_postings(conn, corpus.postings)
                upsert_resumes(conn, corpus.resumes)
            else:
                _say(f"reusing loaded documents: {counts}")
        _say("loading the embedding model (packaged all-MiniLM-L6-v2, offline)")
        encoder = get_encoder(settings)
        _say("refreshing embeddings (only new or changed documents are embedded)")
        stats = refresh_embeddings(db, encoder, settings, progress=ProgressPrinter())
        _say(
            f"refresh done in {stats.wall_seconds:.1f}s: {stats.embedded} embedded "
            f"(encode {stats.encode_seconds:.1f}s, write {stats.write_seconds:.1f}s)"
        )
        _events(settings, db, encoder)
        if serve:
            _serve(settings, db, encoder, host or settings.host, port or settings.port)
    finally:
        db.close()


def _events(settings: ServingSettings, db: Database, encoder) -> None:
    from services.recommender.demo import prepare_events_demo
    from services.recommender.settings import RecommenderSettings

    # The events workload shares the API's home and MLflow store.
    events = RecommenderSettings(
        home=settings.home, mlflow_tracking_uri=settings.mlflow_tracking_uri
    )
    prepare_events_demo(events, db, encoder, _say)


def _serve(settings: ServingSettings, db: Database, encoder, host: str, port: int) -> None:
    import uvicorn

    from services.serving.app import create_app

    base = f"http://{host}:{port}"
    _say(f"serving on {base} (docs: {base}/docs); Ctrl-C stops and shuts the database down")
    print(EXAMPLES.format(base=base), file=sys.stderr, flush=True)
    app = create_app(settings, database=db, encoder=encoder)
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False, server_header=False
    )
    _graceful_server(config).run()
    _say("stopped; shutting the embedded database down")


def _graceful_server(config):
    """A uvicorn server whose SIGINT/SIGTERM makes `run()` return instead of re-raising.

    uvicorn re-raises the signal after its graceful shutdown, which would kill the process
    before atexit stops the embedded PostgreSQL server; returning normally lets it stop.
    """
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):
            def stop(signum: int, frame: object) -> None:
                # A second signal skips the wait for open connections.
                self.force_exit = self.should_exit
                self.should_exit = True

            previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server(config)


EXAMPLES = """
Try:
  curl -s {base}/ready
  curl -s -X POST {base}/recommend_jobs -H 'Content-Type: application/json' \\
       -d '{{"resume_id": "res-000001", "top_k": 5}}'
  curl -s -X POST {base}/recommend_jobs -H 'Content-Type: application/json' \\
       -d '{{"text": "senior python backend engineer, postgres, aws", "top_k": 5,
            "filters": {{"remote": true}}}}'
  curl -s -X POST {base}/job_qa -H 'Content-Type: application/json' \\
       -d '{{"question": "Which jobs ask for Kubernetes experience?"}}'
  curl -s -X POST {base}/v1/recommendations -H 'Content-Type: application/json' \\
       -d '{{"user_id": "u000001", "city": "Dublin", "top_k": 5}}'
  curl -s -X POST {base}/classify_match -H 'Content-Type: application/json' \\
       -d '{{"resume_id": "res-000001", "job_id": "job-000001"}}'
"""

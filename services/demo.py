"""`beacon demo`: the whole jobs workload on embedded defaults, from empty folder to served API."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from typing import Annotated

import typer

from services.core.cli_support import cli_job, setup
from services.core.database import Database
from services.core.heartbeat import EMBED_REFRESH, record_success
from services.core.storage import Storage
from services.serving.settings import ServingSettings

log = logging.getLogger(__name__)

#: The default demo corpus: sized so a first run is ready within two minutes on two quiet cores
#: (about 1,500 texts to encode at ~20 texts/s); `--postings 5000 --resumes 1000` is the fuller one.
DEMO_POSTINGS = 600
DEMO_RESUMES = 150


def _say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


@cli_job
def demo_command(
    postings: Annotated[
        int, typer.Option(min=1, help="Sample postings if none loaded (5000: the fuller corpus).")
    ] = DEMO_POSTINGS,
    resumes: Annotated[
        int, typer.Option(min=1, help="Sample resumes if none are loaded.")
    ] = DEMO_RESUMES,
    host: Annotated[str | None, typer.Option(help="Bind address (default: BEACON_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: BEACON_PORT).")] = None,
    serve: Annotated[bool, typer.Option(help="Serve the API at the end (Ctrl-C stops).")] = True,
) -> None:
    """Start the database, load the sample corpus if empty, refresh embeddings, serve the API."""
    from services.embeddings.encoder import batch_job_threads, get_encoder
    from services.embeddings.progress import RefreshProgress
    from services.embeddings.refresh import refresh_embeddings
    from services.jobs import embedding as _jobs_documents  # noqa: F401  (registers the kinds)
    from services.jobs.store import count_documents, upsert_postings, upsert_resumes
    from services.jobs.synthetic import generate_corpus

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
        _say(
            f"loading the embedding model (packaged all-MiniLM-L6-v2, offline, "
            f"{settings.embedding_backend} backend; the first run exports it once)"
        )
        encoder = get_encoder(settings)
        # The API's encoder (every intra-op thread per call), with int8's calls also side by
        # side on every core for the batch of the refresh (`batch_job_threads`).
        parallel = batch_job_threads(settings, settings.encode_threads)[1]
        _say(estimate_refresh(db, encoder, settings, parallel))
        stats = refresh_embeddings(
            db, encoder, settings, progress=RefreshProgress(), parallel=parallel
        )
        # The refresh-age alert and the ops page read this marker.
        record_success(settings.resolved_storage_uri, EMBED_REFRESH, Storage(settings.aws_region))
        rate = stats.encoded_texts / max(stats.wall_seconds, 1e-9)
        _say(
            f"refresh done in {stats.wall_seconds:.1f}s: {stats.embedded} documents, "
            f"{stats.encoded_texts} texts ({rate:.0f} texts/s; model "
            f"{stats.encoder.model_seconds:.1f}s over {parallel} call(s) side by side, "
            f"write {stats.write_seconds:.1f}s overlapped)"
        )
        _events(settings, db, encoder)
        if serve:
            _serve(settings, db, encoder, host or settings.host, port or settings.port)
    finally:
        db.close()


def estimate_refresh(db: Database, encoder, settings: ServingSettings, parallel: int = 1) -> str:
    """What the refresh will embed and how long it should take on this machine.

    The rate is measured on a few pending documents' own chunks, so the ETA holds for this
    machine and its current load rather than for a reference one.
    """
    import time

    from services.embeddings.refresh import pending_sample

    pending = pending_sample(db, encoder.identity, settings, per_kind=8)
    if not any(count for count, _ in pending.values()):
        return "embeddings are current: nothing to embed"
    texts = 0.0
    sample: list[str] = []
    for count, chunks in pending.values():
        docs = min(count, 8)
        texts += count * (sum(len(c) for c in chunks) / docs if docs else 0)
        sample += [chunk for doc in chunks for chunk in doc]
    started = time.perf_counter()
    encoder.encode(sample[:32], parallel=parallel)
    rate = min(len(sample), 32) / max(time.perf_counter() - started, 1e-9)
    counts = ", ".join(f"{count} {name}" for name, (count, _) in pending.items())
    return (
        f"embedding {counts} (about {texts:.0f} texts) at ~{rate:.0f} texts/s on this "
        f"machine: ETA ~{texts / rate:.0f}s"
    )


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
  curl -s -X POST {base}/v1/recommend_jobs -H 'Content-Type: application/json' \\
       -d '{{"resume_id": "res-000001", "top_k": 5}}'
  curl -s -X POST {base}/v1/recommend_jobs -H 'Content-Type: application/json' \\
       -d '{{"text": "senior python backend engineer, postgres, aws", "top_k": 5,
            "filters": {{"remote": true}}}}'
  curl -s -X POST {base}/v1/job_qa -H 'Content-Type: application/json' \\
       -d '{{"question": "Which jobs ask for Kubernetes experience?"}}'
  curl -s -X POST {base}/v1/recommendations -H 'Content-Type: application/json' \\
       -d '{{"user_id": "u000001", "city": "Dublin", "top_k": 5}}'
  curl -s -X POST {base}/v1/classify_match -H 'Content-Type: application/json' \\
       -d '{{"resume_id": "res-000001", "job_id": "job-000001"}}'
"""

"""`beacon embed refresh`: the embeddings job (also the SageMaker Processing entry point)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from services.core.cli_support import cli_job, setup
from services.core.database import Database
from services.core.errors import InputError
from services.core.heartbeat import EMBED_REFRESH, record_success
from services.core.shards import Shard
from services.core.storage import Storage, parse_uri
from services.embeddings.documents import kind_of_file, registered_kinds
from services.embeddings.encoder import batch_job_threads, get_encoder
from services.embeddings.local_shards import (
    local_shards,
    parse_workers,
    spawn_shards,
    stop_shards,
    threads_per_worker,
    wait_for_shards,
)
from services.embeddings.progress import RefreshProgress
from services.embeddings.refresh import pending_documents, refresh_embeddings
from services.embeddings.settings import EmbeddingSettings

app = typer.Typer(help="Embeddings: refresh document vectors in pgvector.", no_args_is_help=True)
# `embed check` (the post-refresh gate) is about the jobs workload's postings: services/cli.py
# adds it to this group from services.jobs.embedding_check.


SOURCE_HELP = (
    "A postings or resumes file (CSV/JSONL, optionally .gz), a folder of them, or an s3:// URI "
    "of either. Its kind comes from the file name (containing 'posting' or 'resume'). Each "
    "file is the full set of its kind: documents missing from it are deleted."
)
WORKERS_HELP = (
    "Run this refresh as N shard processes on this machine (auto: one per usable core), each "
    "on cores/N of the cores. One process already encodes on every core; N processes spread "
    "the Python-bound work too, for instances with many vCPUs. With --shard I/M (or auto), "
    "this machine's share is split the same way: shards I*N..I*N+N-1 of M*N."
)
SHARD_HELP = (
    "Embed one shard of the pending documents: I/N (0-based, a stable hash of the id), or "
    "auto for the index of this instance in a SageMaker Processing job of InstanceCount N "
    "(/opt/ml/config/resourceconfig.json). N shards together reach the state of one run."
)


@app.command("prepare")
@cli_job
def prepare_command() -> None:
    """Export (and quantise) the encoder into the model cache, then check it encodes offline.

    Runs at image build and at install, so the first job or request does not pay the export
    (about 10 s on two cores). Safe to rerun: an exported model is reused.
    """
    import time

    settings = EmbeddingSettings()
    setup(settings)
    started = time.perf_counter()
    encoder = get_encoder(settings)
    vectors = encoder.encode(["ready"])
    if vectors.shape != (1, encoder.dimension):
        raise RuntimeError(f"encoder returned shape {vectors.shape}")
    typer.echo(
        json.dumps(
            {
                "model": encoder.identity,
                "cache_dir": str(settings.model_cache_dir),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


# long-function: most of it is typer options; the body is argument checks and one call per
# step (load, refresh with its local shards, record, report).
@app.command("refresh")
@cli_job
def refresh_command(
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help=SOURCE_HELP, show_default=False)
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            help="Only refresh these registered kinds (repeat the option; the jobs workload "
            "registers postings and resumes). Default: all."
        ),
    ] = None,
    upsert_only: Annotated[
        bool, typer.Option(help="Keep documents that are missing from --source files.")
    ] = False,
    missing_ok: Annotated[
        bool,
        typer.Option(
            help="A --source with no files means no new data (a quiet day's partition): "
            "say so and refresh what is stored, instead of failing."
        ),
    ] = False,
    shard: Annotated[str | None, typer.Option(help=SHARD_HELP, show_default=False)] = None,
    workers: Annotated[str, typer.Option(help=WORKERS_HELP)] = "1",
) -> None:
    """Embed new and changed documents; unchanged ones are skipped by content hash.

    Safe to rerun and to kill: every batch commits on its own, and a rerun picks up what is left.
    """
    from services.core.locks import serial_lock
    from services.core.shards import WHOLE, parse_shard

    processes = parse_workers(workers)
    parts = local_shards(parse_shard(shard) if shard else WHOLE, processes)
    part = parts[0]
    known = sorted(registered_kinds())
    unknown = [k for k in kind or [] if k not in known]
    if unknown:
        # Kinds are registered by the workloads at start, so typer cannot list them as choices.
        raise InputError(f"--kind {unknown[0]!r} is not a document kind; choose from {known}")
    settings, threads, parallel = _job_settings(processes)
    setup(settings)
    with Database.from_settings(settings) as db:
        # Every shard loads the same files, one after another: the load is idempotent (rows
        # keyed by id, unchanged ones skipped), and each shard then sees every new document.
        with serial_lock(db.url, "embeddings-load"):
            for uri in source or []:
                _load_source(db, settings, uri, replace=not upsert_only, missing_ok=missing_ok)
        others = spawn_shards(parts[1:], kind, threads)
        try:
            encoder = get_encoder(settings)
            stats = refresh_embeddings(
                db,
                encoder,
                settings,
                kinds=kind or None,
                progress=RefreshProgress(),
                shard=part,
                parallel=parallel,
            )
            shards = [stats.as_dict() | {"shard": str(part)}, *wait_for_shards(others, parts[1:])]
        finally:
            stop_shards(others)
        stats_dict = shards[0] if processes == 1 else _combined(shards)
        _record_if_done(db, settings, encoder.identity, kind or None, part, stats_dict)
    typer.echo(json.dumps(stats_dict, indent=2))


def _job_settings(processes: int) -> tuple[EmbeddingSettings, int, int]:
    """(settings, cores, encodes at once) of one of `processes` refresh processes here.

    Each process gets its share of the cores, used as one-thread encodes side by side where
    that is faster (int8; `batch_job_threads`).
    """
    settings = EmbeddingSettings()
    threads = threads_per_worker(settings.encode_threads, processes)
    intra, parallel = batch_job_threads(settings, threads)
    update = {
        "embedding_threads": intra,
        "embedding_workers": max(settings.embedding_workers, parallel),
    }
    return settings.model_copy(update=update), threads, parallel


def _record_if_done(
    db: Database,
    settings: EmbeddingSettings,
    identity: str,
    kinds: list[str] | None,
    part: Shard,
    stats: dict,
) -> None:
    """Write the refresh's success marker once no document is pending in any shard.

    Freshness alerts and the ops page read it (age of the last successful refresh). A shard
    that ends while others still work must not mark the refresh fresh: whichever ends last
    finds nothing pending and records it.
    """
    left = pending_documents(db, identity, kinds)
    if left:
        typer.echo(
            f"shard {part} done; {left} documents still pending (other shards, or added since): "
            "the success marker is left to the run that finishes them",
            err=True,
        )
        return
    record_success(
        settings.resolved_storage_uri, EMBED_REFRESH, Storage(settings.aws_region), details=stats
    )


def _combined(shards: list[dict]) -> dict:
    """One summary of a refresh run as several local shards: totals, then each shard's own."""
    return {
        "workers": len(shards),
        "embedded": sum(s["embedded"] for s in shards),
        "wall_seconds": max(s["wall_seconds"] for s in shards),
        "shards": shards,
    }


def _load_source(
    db: Database, settings: EmbeddingSettings, uri: str, *, replace: bool, missing_ok: bool
) -> None:
    storage = Storage(settings.aws_region)
    files = storage.list(uri)
    if not files and missing_ok:
        typer.echo(f"--source {uri}: no files, nothing new to load", err=True)
        return
    if not files:
        raise InputError(f"--source {uri}: no files found")
    with tempfile.TemporaryDirectory(prefix="beacon-source-") as tmp:
        for file_uri in files:
            name = Path(parse_uri(file_uri).key).name
            kind = kind_of_file(name)
            if kind is None or kind.load_file is None:
                words = sorted(k.file_word for k in registered_kinds().values() if k.file_word)
                raise InputError(
                    f"{name}: cannot tell its kind by its name (expected one of {words} in it)"
                )
            local = storage.download(file_uri, Path(tmp) / name)
            with db.connection() as conn:
                stats = kind.load_file(conn, local, replace)
            typer.echo(f"loaded {name}: {stats}", err=True)

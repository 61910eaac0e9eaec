"""`beacon events ...` (generate and load data) and `beacon train events` (train and register)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from services.core.cli_support import ProgressPrinter, cli_job, setup

app = typer.Typer(
    help="Events workload data: generated users, events and interactions; interaction files.",
    no_args_is_help=True,
)

GATE_FAILED = 1  # exit code when the champion gate keeps the current champion


def _settings():
    from services.recommender.settings import RecommenderSettings

    settings = RecommenderSettings()
    setup(settings)
    return settings


def _encoder():
    from services.embeddings.encoder import get_encoder
    from services.embeddings.settings import EmbeddingSettings

    return get_encoder(EmbeddingSettings())


@app.command("generate")
@cli_job
def generate_command(
    users: Annotated[
        int | None, typer.Option(min=10, help="Users (default BEACON_EVENTS_USERS).")
    ] = None,
    events: Annotated[
        int | None, typer.Option(min=10, help="Events (default BEACON_EVENTS_COUNT).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default BEACON_EVENTS_SEED).")] = None,
    embed: Annotated[bool, typer.Option(help="Embed the events for content-based models.")] = True,
) -> None:
    """Generate users, events and interactions (deterministic per seed and day) and store them.

    Idempotent: rerunning the same day writes nothing new. Events are then embedded (only new
    or changed ones) so content-based recommendations can use them.
    """
    from services.core.database import Database
    from services.recommender.data import generate_events_data
    from services.recommender.store import (
        count_events_data,
        insert_interactions,
        upsert_events,
        upsert_users,
    )

    settings = _settings()
    data = generate_events_data(
        users or settings.events_users,
        events or settings.events_count,
        seed=settings.events_seed if seed is None else seed,
    )
    typer.echo(
        f"generated {len(data.users)} users, {len(data.events)} events, "
        f"{len(data.interactions)} interactions"
    )
    with Database.from_settings(settings) as db:
        with db.connection() as conn:
            upsert_users(conn, data.users)
            upsert_events(conn, data.events)
            added = insert_interactions(conn, data.interactions, source="generated")
        typer.echo(f"stored; {added} new interactions")
        if embed:
            _embed(db)
        with db.connection() as conn:
            typer.echo(json.dumps(count_events_data(conn), indent=2))


def _embed(db) -> None:
    from services.recommender.store import embed_events

    typer.echo("embedding events (packaged all-MiniLM-L6-v2; unchanged events are skipped)")
    progress = ProgressPrinter(unit="events")
    done = embed_events(db, _encoder(), progress=lambda d, t: progress("events", d, t))
    typer.echo(f"embedded {done} events")


@app.command("load")
@cli_job
def load_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="Interaction file: user,item,action|rating,"
            "timestamp CSV, or MovieLens ratings.dat/u.data."
        ),
    ],
    source: Annotated[str, typer.Option(help="Label stored with the rows.")] = "file",
) -> None:
    """Validate a whole interaction file, then store it in one transaction (bad row: nothing)."""
    from services.core.database import Database
    from services.recommender.loader import load_interactions
    from services.recommender.store import insert_interactions

    settings = _settings()
    frame = load_interactions(path)
    typer.echo(
        f"{path.name}: {len(frame)} valid interactions "
        f"({frame['user_id'].nunique()} users, {frame['event_id'].nunique()} items)"
    )
    with Database.from_settings(settings) as db, db.connection() as conn:
        added = insert_interactions(conn, frame, source=source)
    typer.echo(f"stored {added} new interactions")


@cli_job
def train_events_command(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="A user's interaction file (user,item,action|rating,timestamp; MovieLens "
            "layouts accepted). Default: the stored interactions plus the API's feedback.",
        ),
    ] = None,
) -> None:
    """Train popularity, item-item CF, ALS, content-based and hybrid recommenders; print
    precision@10, recall@10 and NDCG@10 per algorithm on a time-based split; register the
    bundle as `events-recommender` and promote it unless its hybrid NDCG@10 trails the
    champion's by more than BEACON_REC_PROMOTION_MARGIN (exit 1). A model trained on --data
    is registered as challenger only (promote it with `beacon model promote`).
    """
    from services.core.database import Database
    from services.recommender.evaluation import K
    from services.recommender.loader import load_interactions
    from services.recommender.training import train_events

    settings = _settings()
    frame = load_interactions(data) if data is not None else None
    with Database.from_settings(settings) as db:
        outcome = train_events(
            settings,
            db,
            data=frame,
            source=data.name if data is not None else "database",
            promote_allowed=data is None,
            say=typer.echo,
        )
    users = next(iter(outcome.metrics.values())).users
    typer.echo(
        f"\n{'algorithm':<12} {'precision@' + str(K):>13} {'recall@' + str(K):>10} "
        f"{'NDCG@' + str(K):>8} {'coverage':>9}   ({users} test users)"
    )
    for algorithm, m in outcome.metrics.items():
        typer.echo(
            f"{algorithm:<12} {m.precision:>13.4f} {m.recall:>10.4f} {m.ndcg:>8.4f} "
            f"{m.coverage:>9.3f}"
        )
    typer.echo(f"version {outcome.version}: {outcome.gate}")
    if data is None and not outcome.promoted:
        raise typer.Exit(code=GATE_FAILED)

"""`beacon events ...` (generate and load data) and `beacon train events` (train and register)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from services.core.cli_support import ProgressPrinter, cli_job, setup
from services.mlops.gates import GATE_FAILED

app = typer.Typer(
    help="Events workload data: generated users, events and interactions; interaction files.",
    no_args_is_help=True,
)


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


# long-function: the typer options are half of it; the body is 35 lines.
@app.command("load")
@cli_job
def load_command(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Interaction file: user,item,action|rating,timestamp CSV, or MovieLens "
            "ratings.csv / ratings.dat / u.data. Optional when only --items is given."
        ),
    ] = None,
    items: Annotated[
        Path | None,
        typer.Option(
            "--items",
            help="Item metadata: MovieLens u.item or movies.csv, or a CSV with "
            "id,title[,text][,tags][,city][,time] (see docs/data-formats.md).",
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            help="Encoding of the files (e.g. latin-1). Default: UTF-8, else cp1252, else "
            "latin-1, as detected per file."
        ),
    ] = None,
    source: Annotated[str, typer.Option(help="Label stored with the rows.")] = "file",
    embed: Annotated[
        bool, typer.Option(help="Embed new or changed items for the content-based model.")
    ] = True,
) -> None:
    """Validate whole files, then store items and interactions in one transaction.

    A bad row anywhere means nothing is stored. Rerunning with the same files stores nothing
    new. Items are then embedded (only new or changed ones) so content-based and hybrid
    recommendations can use their titles, tags and text.
    """
    from services.core.database import Database
    from services.recommender.items import load_items
    from services.recommender.loader import load_interactions
    from services.recommender.store import insert_interactions, upsert_items

    if path is None and items is None:
        raise typer.BadParameter("give an interaction file, --items FILE, or both")
    settings = _settings()
    catalogue, frame = None, None
    if items is not None:
        catalogue, used = load_items(items, encoding)
        typer.echo(f"{items.name}: {len(catalogue)} valid items (decoded as {used})")
    if path is not None:
        frame = load_interactions(path, encoding)
        typer.echo(
            f"{path.name}: {len(frame)} valid interactions "
            f"({frame['user_id'].nunique()} users, {frame['event_id'].nunique()} items)"
        )
        if catalogue is not None:
            unknown = set(frame["event_id"]) - {i.item_id for i in catalogue}
            if unknown:
                typer.echo(
                    f"note: {len(unknown)} item(s) rated but not in {items.name}: they are "
                    "served by id only"
                )
    with Database.from_settings(settings) as db:
        with db.connection() as conn:
            if catalogue is not None:
                typer.echo(f"stored {upsert_items(conn, catalogue)} new or changed items")
            if frame is not None:
                typer.echo(
                    f"stored {insert_interactions(conn, frame, source=source)} new interactions"
                )
        if embed and catalogue is not None:
            _embed(db)


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
    encoding: Annotated[
        str | None, typer.Option(help="Encoding of --data (default: detected).")
    ] = None,
) -> None:
    """Train popularity, recency-weighted popularity, item-item CF, ALS, EASE, content-based
    and hybrid recommenders (tuned on a validation window of the training period); print
    precision@10, recall@10 and NDCG@10 per algorithm on a time-based split; register the
    bundle as `events-recommender` and promote it unless the served algorithm scores below
    plain or recency-weighted popularity, a user with history would get an empty list, or its
    hybrid NDCG@10 trails the champion's by more than BEACON_REC_PROMOTION_MARGIN (exit 1).
    A model trained on --data is registered as challenger only (`beacon model promote`).
    """
    from services.core.database import Database
    from services.recommender.evaluation import metrics_table
    from services.recommender.loader import load_interactions
    from services.recommender.training import train_events

    settings = _settings()
    frame = load_interactions(data, encoding) if data is not None else None
    with Database.from_settings(settings) as db:
        outcome = train_events(
            settings,
            db,
            data=frame,
            source=data.name if data is not None else "database",
            promote_allowed=data is None,
            say=typer.echo,
        )
    typer.echo("\n" + metrics_table(outcome.metrics))
    typer.echo(f"version {outcome.version}: {outcome.gate}")
    if data is None and not outcome.promoted:
        raise typer.Exit(code=GATE_FAILED)

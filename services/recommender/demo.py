"""The events part of `beacon demo`: generated data, embedded events and a trained champion."""

from __future__ import annotations

from collections.abc import Callable

from services.core.cli_support import ProgressPrinter
from services.core.database import Database
from services.embeddings.encoder import Encoder
from services.recommender.settings import RecommenderSettings


def prepare_events_demo(
    settings: RecommenderSettings,
    db: Database,
    encoder: Encoder,
    say: Callable[[str], None],
) -> None:
    """Generate events data if none is stored, embed new events, train if there is no champion.

    Seconds, not minutes, at the default size (2,000 users x 600 events): the embedding of
    the events is most of it, and a rerun skips everything already done.
    """
    from services.mlops.registry import CHAMPION, alias_version
    from services.recommender.data import generate_events_data
    from services.recommender.store import (
        count_events_data,
        embed_events,
        insert_interactions,
        upsert_events,
        upsert_users,
    )
    from services.recommender.training import train_events

    with db.connection() as conn:
        counts = count_events_data(conn)
        if counts["interactions"] == 0:
            say(
                f"events: generating {settings.events_users} users and "
                f"{settings.events_count} events with their interactions"
            )
            data = generate_events_data(
                settings.events_users, settings.events_count, seed=settings.events_seed
            )
            upsert_users(conn, data.users)
            upsert_events(conn, data.events)
            insert_interactions(conn, data.interactions)
        else:
            say(f"events: reusing stored data: {counts}")
    progress = ProgressPrinter(unit="events")
    embed_events(db, encoder, progress=lambda done, total: progress("events", done, total))
    if alias_version(settings.events_model_name, CHAMPION, settings) is None:
        say("events: training the recommenders (no champion yet)")
        outcome = train_events(settings, db, say=lambda line: say(f"events: {line}"))
        for algorithm, m in outcome.metrics.items():
            say(
                f"events: {algorithm:<10} NDCG@10 {m.ndcg:.4f}  precision@10 "
                f"{m.precision:.4f}  recall@10 {m.recall:.4f}"
            )
    else:
        say("events: a champion recommender is registered; `beacon train events` retrains")

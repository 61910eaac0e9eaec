"""Events data in PostgreSQL: bulk idempotent writes, event embeddings, training reads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from services.core.database import Database
from services.embeddings.encoder import Encoder
from services.recommender.data import ACTION_WEIGHTS, Event, EventUser, embedding_text
from services.recommender.items import CatalogueItem

log = logging.getLogger(__name__)

EMBED_BATCH = 64


def upsert_users(conn: psycopg.Connection[Any], users: list[EventUser]) -> int:
    """Insert or update users by id; returns how many were written."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO event_users (user_id, home_city) VALUES (%s, %s) "
            "ON CONFLICT (user_id) DO UPDATE SET home_city = EXCLUDED.home_city, "
            "updated_at = now() WHERE event_users.home_city IS DISTINCT FROM EXCLUDED.home_city",
            [(u.user_id, u.home_city) for u in users],
        )
    return len(users)


def upsert_events(conn: psycopg.Connection[Any], events: list[Event]) -> int:
    """Insert or update events by id; an unchanged text keeps its embedding."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO events (event_id, title, city, venue, genre, starts_at, description, "
            "content_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (event_id) DO UPDATE SET title = EXCLUDED.title, city = EXCLUDED.city, "
            "venue = EXCLUDED.venue, genre = EXCLUDED.genre, starts_at = EXCLUDED.starts_at, "
            "description = EXCLUDED.description, content_hash = EXCLUDED.content_hash, "
            "updated_at = now()",
            [
                (
                    e.event_id,
                    e.title,
                    e.city,
                    e.venue,
                    e.genre,
                    e.starts_at,
                    e.description,
                    e.content_hash,
                )
                for e in events
            ],
        )
    return len(events)


def upsert_items(conn: psycopg.Connection[Any], items: list[CatalogueItem]) -> int:
    """Insert or update catalogue items (films, generic items) by id, in the events table.

    They have no venue and may have no city or start time; an unchanged text keeps its
    embedding. Returns how many rows were new or changed.
    """
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO events (event_id, title, city, venue, genre, starts_at, description, "
            "content_hash) VALUES (%s, %s, %s, NULL, %s, %s, %s, %s) "
            "ON CONFLICT (event_id) DO UPDATE SET title = EXCLUDED.title, city = EXCLUDED.city, "
            "venue = NULL, genre = EXCLUDED.genre, starts_at = EXCLUDED.starts_at, "
            "description = EXCLUDED.description, content_hash = EXCLUDED.content_hash, "
            "updated_at = now() WHERE events.content_hash IS DISTINCT FROM EXCLUDED.content_hash "
            "OR events.starts_at IS DISTINCT FROM EXCLUDED.starts_at "
            "OR events.city IS DISTINCT FROM EXCLUDED.city",
            [
                (i.item_id, i.title, i.city, i.tags, i.starts_at, i.text, i.content_hash)
                for i in items
            ],
        )
        return max(cur.rowcount, 0)


def insert_interactions(
    conn: psycopg.Connection[Any], frame: pd.DataFrame, source: str = "generated"
) -> int:
    """COPY interactions in; rows already stored (same user, event, action, time) are skipped.

    Runs in the caller's transaction, so a failure leaves nothing behind.
    """
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE interactions_stage (LIKE event_interactions INCLUDING DEFAULTS) "
            "ON COMMIT DROP"
        )
        columns = "user_id, event_id, action, weight, occurred_at, source"
        with cur.copy(f"COPY interactions_stage ({columns}) FROM STDIN") as copy:
            for row in zip(
                frame["user_id"],
                frame["event_id"],
                frame["action"],
                frame["weight"],
                frame["occurred_at"],
                strict=True,
            ):
                copy.write_row((*row[:3], float(row[3]), row[4].to_pydatetime(), source))
        cur.execute(
            f"INSERT INTO event_interactions ({columns}) SELECT {columns} FROM interactions_stage "
            "ON CONFLICT DO NOTHING"
        )
        return cur.rowcount


def embed_events(
    db: Database,
    encoder: Encoder,
    *,
    batch: int = EMBED_BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Embed events whose text or model changed since their vector was computed."""
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT event_id, title, genre, city, venue, description, content_hash FROM events "
            "WHERE embedded_hash IS DISTINCT FROM content_hash "
            "OR embedding_model IS DISTINCT FROM %s ORDER BY event_id",
            (encoder.identity,),
        ).fetchall()
    total = len(rows)
    if progress:
        progress(0, total)
    for start in range(0, total, batch):
        part = rows[start : start + batch]
        texts = [embedding_text(*r[1:6]) for r in part]
        vectors = encoder.encode(texts)
        with db.connection() as conn, conn.cursor() as cur:
            cur.executemany(
                "UPDATE events SET embedding = %s, embedding_model = %s, embedded_hash = %s "
                "WHERE event_id = %s",
                [
                    (np.asarray(v, dtype=np.float32), encoder.identity, r[6], r[0])
                    for v, r in zip(vectors, part, strict=True)
                ],
            )
        if progress:
            progress(min(start + batch, total), total)
    return total


def read_interactions(conn: psycopg.Connection[Any]) -> pd.DataFrame:
    """Stored interactions plus the feedback collected by the API (dismissals excluded)."""
    weights = ", ".join(f"('{a}', {w})" for a, w in ACTION_WEIGHTS.items())
    rows = conn.execute(
        "SELECT user_id, event_id, action, weight, occurred_at FROM event_interactions "
        "UNION ALL "
        "SELECT f.user_id, f.event_id, f.action, w.weight, f.created_at FROM ml_feedback f "
        f"JOIN (VALUES {weights}) AS w (action, weight) ON w.action = f.action"
    ).fetchall()
    frame = pd.DataFrame(rows, columns=["user_id", "event_id", "action", "weight", "occurred_at"])
    frame["weight"] = frame["weight"].astype(float)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    return frame.sort_values(["occurred_at", "user_id", "event_id"], kind="stable").reset_index(
        drop=True
    )


def read_event_vectors(conn: psycopg.Connection[Any]) -> dict[str, np.ndarray]:
    """Embedding of every embedded event, by id."""
    rows = conn.execute("SELECT event_id, embedding FROM events WHERE embedding IS NOT NULL")
    return {event_id: _array(vector) for event_id, vector in rows}


def _array(vector: Any) -> np.ndarray:
    # pgvector's adapter returns a Vector object (newer releases) or a NumPy array (older).
    values = vector.to_numpy() if hasattr(vector, "to_numpy") else vector
    return np.asarray(values, dtype=np.float32)


def read_event_starts(conn: psycopg.Connection[Any]) -> dict[str, pd.Timestamp]:
    """Start time of every stored event, by id (catalogue items without one are left out)."""
    rows = conn.execute("SELECT event_id, starts_at FROM events WHERE starts_at IS NOT NULL")
    return {event_id: pd.Timestamp(starts) for event_id, starts in rows}


def count_events_data(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """How many users, events, embedded events, interactions and feedback rows are stored."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM event_users), (SELECT count(*) FROM events), "
        "(SELECT count(embedding) FROM events), (SELECT count(*) FROM event_interactions), "
        "(SELECT count(*) FROM ml_feedback)"
    ).fetchone()
    keys = ("users", "events", "embedded_events", "interactions", "feedback")
    return dict(zip(keys, (int(v) for v in row), strict=True))

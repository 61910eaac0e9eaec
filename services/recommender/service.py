"""Serve a recommendation list: experiment variant, candidates, scoring, cache, logging.

Framework-free (the API router and the benchmark call it): everything runs on one pooled
connection, in one transaction, so a served list and its log row commit together.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from services.core.errors import InputError, NotFound
from services.recommender.algorithms import CONTENT, POPULARITY, EventsModel, check_algorithm
from services.recommender.catalogue import Catalogue
from services.recommender.experiments import Experiment, active_experiment, assign, get_experiment


class RecommendationNotFound(NotFound):
    """Feedback named a recommendation id that was never served (HTTP 404)."""


@dataclass(frozen=True)
class Query:
    """A validated request for a list."""

    user_id: str
    top_k: int = 10
    city: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    experiment_id: str | None = None


@dataclass(frozen=True)
class ServedList:
    """What was served, and why (variant, algorithm, cold start, cache)."""

    recommendation_id: str
    user_id: str
    experiment_id: str | None
    variant: str | None
    algorithm: str
    model_name: str
    model_version: str
    cold_start: bool
    cached: bool
    items: list[dict[str, Any]]


# Upcoming events (or undated catalogue items) passing the filters that the user has not
# interacted with or dismissed.
_FILTERS = """
    (e.starts_at IS NULL OR (e.starts_at >= greatest(coalesce(%(from)s, now()), now())
        AND (%(to)s::timestamptz IS NULL OR e.starts_at < %(to)s)))
    AND (%(city)s::text IS NULL OR e.city = %(city)s)
    AND NOT EXISTS (SELECT 1 FROM ml_feedback f
                    WHERE f.user_id = %(user)s AND f.event_id = e.event_id AND f.action = 'dismiss')
"""
# Content-based through pgvector: the profile is the mean embedding of the user's events
# (interactions and positive feedback), ranked by cosine distance inside PostgreSQL.
_CONTENT_SQL = f"""
WITH mine AS (
    SELECT event_id FROM event_interactions WHERE user_id = %(user)s
    UNION SELECT event_id FROM ml_feedback WHERE user_id = %(user)s AND action <> 'dismiss'
), profile AS (
    SELECT avg(ev.embedding) AS v FROM mine JOIN events ev USING (event_id)
    WHERE ev.embedding IS NOT NULL
)
SELECT e.event_id, 1 - (e.embedding <=> p.v) AS score
FROM events e, profile p
WHERE p.v IS NOT NULL AND e.embedding IS NOT NULL AND {_FILTERS}
  AND e.event_id NOT IN (SELECT event_id FROM mine)
ORDER BY e.embedding <=> p.v LIMIT %(k)s
"""
_DISMISSED_SQL = "SELECT event_id FROM ml_feedback WHERE user_id = %s AND action = 'dismiss'"


def cache_key(query: Query, algorithm: str, model_version: str) -> str:
    """`<user>|<hash of everything else>`: one user's entries can be dropped by prefix."""
    parts = [algorithm, model_version, query.top_k, query.city, query.date_from, query.date_to]
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]
    return f"{query.user_id}|{digest}"


def serve_list(
    conn: psycopg.Connection[Any],
    model: EventsModel,
    *,
    model_name: str,
    model_version: str,
    query: Query,
    catalogue: Catalogue,
    default_algorithm: str,
    cache_ttl: float,
) -> ServedList:
    """Choose the variant, compute (or reuse) the list, log it in model_predictions."""
    # The log row is the only write on the request path; waiting for its WAL flush cost more
    # than everything else together (a cached list took 4.5 ms at the median with it, 0.4 ms
    # without, on this shared machine's disk). A crash may lose the last few hundred ms of
    # logged lists, never corrupt them: feedback on such a list gets a clean 404.
    conn.execute("SET LOCAL synchronous_commit TO off")
    experiment = _experiment(conn, query.experiment_id)
    variant = (
        assign(query.user_id, experiment.experiment_id, experiment.variants) if experiment else None
    )
    algorithm = check_algorithm(variant.algorithm if variant else default_algorithm)
    cold = query.user_id not in model.user_index
    city = query.city
    if cold and city is None:
        # Cold start: an unknown user gets what is popular where they live, if we know where.
        city = _home_city(conn, query.user_id)
    key = cache_key(query, algorithm, model_version)
    cached = _cached_list(conn, key) if cache_ttl > 0 else None
    if cached:
        ids, scores = list(cached[0]), [float(s) for s in cached[1]]
    else:
        ids, scores = _compute(conn, model, catalogue, query, algorithm, city)
        if cache_ttl > 0:
            _cache_list(conn, key, ids, scores, cache_ttl)
    recommendation_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO model_predictions (prediction_id, model_name, model_version, experiment_id, "
        "variant, algorithm, user_id, items, cached) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            recommendation_id,
            model_name,
            model_version,
            experiment.experiment_id if experiment else None,
            variant.name if variant else None,
            algorithm,
            query.user_id,
            ids,
            cached is not None,
        ),
    )
    return ServedList(
        recommendation_id=recommendation_id,
        user_id=query.user_id,
        experiment_id=experiment.experiment_id if experiment else None,
        variant=variant.name if variant else None,
        algorithm=algorithm,
        model_name=model_name,
        model_version=model_version,
        cold_start=cold,
        cached=cached is not None,
        items=_details(catalogue, ids, scores),
    )


def _home_city(conn: psycopg.Connection[Any], user_id: str) -> str | None:
    row = conn.execute(
        "SELECT home_city FROM event_users WHERE user_id = %s", (user_id,)
    ).fetchone()
    return row[0] if row else None


def _cached_list(conn: psycopg.Connection[Any], key: str) -> tuple[list[str], list[float]] | None:
    """(items, scores) of an unexpired cached list under `key`, or None."""
    return conn.execute(
        "SELECT items, scores FROM recommendation_cache WHERE cache_key = %s "
        "AND expires_at > now()",
        (key,),
    ).fetchone()


def _cache_list(
    conn: psycopg.Connection[Any], key: str, ids: list[str], scores: list[float], ttl: float
) -> None:
    conn.execute(
        "INSERT INTO recommendation_cache (cache_key, items, scores, expires_at) "
        "VALUES (%s, %s, %s, now() + make_interval(secs => %s)) "
        "ON CONFLICT (cache_key) DO UPDATE SET items = EXCLUDED.items, "
        "scores = EXCLUDED.scores, expires_at = EXCLUDED.expires_at",
        (key, ids, scores, ttl),
    )


def _experiment(conn: psycopg.Connection[Any], experiment_id: str | None) -> Experiment | None:
    if experiment_id is None:
        return active_experiment(conn)
    experiment = get_experiment(conn, experiment_id)
    if experiment.status != "running":
        raise InputError(f"experiment_id: experiment {experiment_id!r} is {experiment.status}")
    now = conn.execute("SELECT now()").fetchone()[0]
    # Running but outside its window: users are assigned only while it is on.
    if experiment.starts_at is not None and experiment.starts_at > now:
        raise InputError(f"experiment_id: experiment {experiment_id!r} has not started yet")
    if experiment.ends_at is not None and experiment.ends_at <= now:
        raise InputError(f"experiment_id: experiment {experiment_id!r} has ended")
    return experiment


def _params(query: Query, city: str | None, k: int) -> dict[str, Any]:
    return {
        "from": query.date_from,
        "to": query.date_to,
        "city": city,
        "user": query.user_id,
        "k": k,
    }


def _compute(
    conn: psycopg.Connection[Any],
    model: EventsModel,
    catalogue: Catalogue,
    query: Query,
    algorithm: str,
    city: str | None,
) -> tuple[list[str], list[float]]:
    if algorithm == CONTENT:
        rows = conn.execute(_CONTENT_SQL, _params(query, city, query.top_k)).fetchall()
        if rows:
            return [r[0] for r in rows], [float(r[1]) for r in rows]
        algorithm = POPULARITY  # no profile yet: fall back like any cold start
    dismissed = {r[0] for r in conn.execute(_DISMISSED_SQL, (query.user_id,))}
    items = catalogue.candidates(
        model, city=city, date_from=query.date_from, date_to=query.date_to, dismissed=dismissed
    )
    top, scores = model.recommend(algorithm, query.user_id, items, query.top_k)
    return model.item_ids[top].tolist(), [float(s) for s in scores]


def _details(catalogue: Catalogue, ids: list[str], scores: list[float]) -> list[dict[str, Any]]:
    return [
        {"event_id": event_id, "score": round(score, 6), **catalogue.details.get(event_id, {})}
        for event_id, score in zip(ids, scores, strict=True)
    ]


def record_feedback(
    conn: psycopg.Connection[Any], recommendation_id: str, event_id: str, action: str
) -> dict[str, Any]:
    """Store feedback on a served list, joined to it by id; the event must be in that list."""
    row = conn.execute(
        "SELECT user_id, items, experiment_id, variant FROM model_predictions "
        "WHERE prediction_id = %s",
        (recommendation_id,),
    ).fetchone()
    if row is None:
        raise RecommendationNotFound(f"recommendation_id: no recommendation {recommendation_id}")
    user_id, items, experiment_id, variant = row
    if event_id not in items:
        raise InputError(f"event_id: {event_id!r} is not in recommendation {recommendation_id}")
    # Once per (list, event, action): a retried or replayed request must not count twice in
    # experiment results or retraining.
    inserted = conn.execute(
        "INSERT INTO ml_feedback (prediction_id, user_id, event_id, action) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (prediction_id, event_id, action) DO NOTHING "
        "RETURNING feedback_id",
        (recommendation_id, user_id, event_id, action),
    ).fetchone()
    duplicate = inserted is None
    if duplicate:
        inserted = conn.execute(
            "SELECT feedback_id FROM ml_feedback WHERE prediction_id = %s AND event_id = %s "
            "AND action = %s",
            (recommendation_id, event_id, action),
        ).fetchone()
    else:
        # The user's next list must reflect this (a dismissed event disappears at once).
        drop_cached_lists(conn, user_id)
    return {
        "duplicate": duplicate,
        "feedback_id": int(inserted[0]),
        "recommendation_id": recommendation_id,
        "user_id": user_id,
        "event_id": event_id,
        "action": action,
        "experiment_id": experiment_id,
        "variant": variant,
    }


def drop_cached_lists(conn: psycopg.Connection[Any], user_id: str) -> None:
    """Forget a user's cached lists, so the next one reflects their latest feedback."""
    conn.execute(
        "DELETE FROM recommendation_cache WHERE cache_key LIKE %s",
        (user_id.replace("%", r"\%").replace("_", r"\_") + "|%",),
    )


def list_owner(conn: psycopg.Connection[Any], recommendation_id: str) -> str:
    """The user a served list was made for; RecommendationNotFound if it was never served."""
    row = conn.execute(
        "SELECT user_id FROM model_predictions WHERE prediction_id = %s", (recommendation_id,)
    ).fetchone()
    if row is None:
        raise RecommendationNotFound(f"recommendation_id: no recommendation {recommendation_id}")
    return str(row[0])


def undo_dismissal(conn: psycopg.Connection[Any], recommendation_id: str, event_id: str) -> int:
    """Withdraw the list's user's dismissals of an event; returns how many were removed."""
    user_id = list_owner(conn, recommendation_id)
    removed = conn.execute(
        "DELETE FROM ml_feedback WHERE user_id = %s AND event_id = %s AND action = 'dismiss'",
        (user_id, event_id),
    ).rowcount
    if removed:
        drop_cached_lists(conn, user_id)
    return removed

"""Experiment lifecycle: at most one running at a time, started and stopped on purpose."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from services.core.errors import Conflict
from services.recommender.experiments import Experiment, create_experiment, get_experiment

# Any constant works; it only has to be the same in every process that changes experiments.
LIFECYCLE_LOCK_ID = 0x6576_656E_7473


class ExperimentConflict(Conflict):
    """The change would leave two experiments running at once, or revive an ended one (409)."""


def _lock(conn: psycopg.Connection[Any]) -> None:
    # Two concurrent starts must not both see "nothing else running".
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIFECYCLE_LOCK_ID,))


def _ensure_alone(
    conn: psycopg.Connection[Any],
    experiment_id: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
) -> None:
    """ExperimentConflict if another running experiment's window overlaps this one's.

    The recommendations endpoint serves one experiment; with two running, the newer one
    would silently take every user from the older one mid-test.
    """
    row = conn.execute(
        "SELECT experiment_id FROM experiments WHERE status = 'running' "
        "AND experiment_id <> %(id)s "
        "AND (ends_at IS NULL OR ends_at > greatest(coalesce(%(start)s, now()), now())) "
        "AND (%(end)s::timestamptz IS NULL OR starts_at < %(end)s) LIMIT 1",
        {"id": experiment_id, "start": starts_at, "end": ends_at},
    ).fetchone()
    if row is not None:
        raise ExperimentConflict(
            f"experiment {row[0]!r} is running in an overlapping window; stop it first "
            f"(POST /v1/experiments/{row[0]}/stop)"
        )


def create_alone(conn: psycopg.Connection[Any], experiment: Experiment) -> Experiment:
    """Create an experiment; a running one must not overlap another running experiment."""
    _lock(conn)
    if experiment.status == "running":
        _ensure_alone(conn, experiment.experiment_id, experiment.starts_at, experiment.ends_at)
    return create_experiment(conn, experiment)


def start_experiment(conn: psycopg.Connection[Any], experiment_id: str) -> Experiment:
    """Set a draft or stopped experiment running (its window unchanged)."""
    _lock(conn)
    experiment = get_experiment(conn, experiment_id)
    ended = conn.execute(
        "SELECT ends_at IS NOT NULL AND ends_at <= now() FROM experiments WHERE experiment_id = %s",
        (experiment_id,),
    ).fetchone()[0]
    if ended:
        raise ExperimentConflict(f"experiment {experiment_id!r} has ended; create a new one")
    if experiment.status != "running":
        _ensure_alone(conn, experiment_id, experiment.starts_at, experiment.ends_at)
        conn.execute(
            "UPDATE experiments SET status = 'running' WHERE experiment_id = %s", (experiment_id,)
        )
    return get_experiment(conn, experiment_id)


def stop_experiment(conn: psycopg.Connection[Any], experiment_id: str) -> Experiment:
    """Stop an experiment: no more assignments; its results stay readable."""
    _lock(conn)
    get_experiment(conn, experiment_id)  # ExperimentNotFound first
    conn.execute(
        "UPDATE experiments SET status = 'stopped' WHERE experiment_id = %s", (experiment_id,)
    )
    return get_experiment(conn, experiment_id)

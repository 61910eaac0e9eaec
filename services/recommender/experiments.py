"""A/B experiments in PostgreSQL: definitions, sticky assignment, results per variant."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from services.core.errors import Conflict, NotFound
from services.recommender.data import FUNNEL
from services.recommender.stats import compare_proportions, sample_ratio_check

#: Buckets of the assignment hash: fine enough that weights like 0.333 land within 1e-6.
BUCKETS = 2**32


class ExperimentNotFound(NotFound):
    """No experiment with that id (HTTP 404)."""


class ExperimentExists(Conflict):
    """An experiment with that id already exists (HTTP 409)."""


@dataclass(frozen=True)
class Variant:
    """One arm: its name, the algorithm it serves and its share of traffic."""

    name: str
    algorithm: str
    weight: float


@dataclass(frozen=True)
class Experiment:
    """An experiment; the first variant is the control."""

    experiment_id: str
    name: str
    variants: tuple[Variant, ...]
    goal: str
    status: str
    starts_at: datetime | None  # None when creating: the database's now()
    ends_at: datetime | None
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (times in ISO 8601)."""
        out = asdict(self)
        out["variants"] = [asdict(v) for v in self.variants]
        for key in ("starts_at", "ends_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def assign(user_id: str, experiment_id: str, variants: tuple[Variant, ...]) -> Variant:
    """The user's variant: SHA-256 of (experiment, user) mapped onto the cumulative weights.

    Deterministic and sticky (no stored state), and independent across experiments because
    the experiment id is part of the hashed key.
    """
    digest = hashlib.sha256(f"{experiment_id}:{user_id}".encode()).digest()
    point = int.from_bytes(digest[:4], "big") / BUCKETS * sum(v.weight for v in variants)
    cumulative = 0.0
    for variant in variants:
        cumulative += variant.weight
        if point < cumulative:
            return variant
    return variants[-1]


_COLUMNS = "experiment_id, name, variants, goal, status, starts_at, ends_at, description"


def _experiment(row: tuple) -> Experiment:
    variants = tuple(Variant(v["name"], v["algorithm"], float(v["weight"])) for v in row[2])
    return Experiment(row[0], row[1], variants, row[3], row[4], row[5], row[6], row[7])


def create_experiment(conn: psycopg.Connection[Any], experiment: Experiment) -> Experiment:
    """Store a new experiment; ExperimentExists when the id is taken."""
    variants = Jsonb([asdict(v) for v in experiment.variants])
    row = conn.execute(
        f"INSERT INTO experiments ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, "
        "coalesce(%s, now()), %s, %s) ON CONFLICT (experiment_id) DO NOTHING "
        f"RETURNING {_COLUMNS}",
        (
            experiment.experiment_id,
            experiment.name,
            variants,
            experiment.goal,
            experiment.status,
            experiment.starts_at,
            experiment.ends_at,
            experiment.description,
        ),
    ).fetchone()
    if row is None:
        raise ExperimentExists(f"experiment {experiment.experiment_id!r} already exists")
    return _experiment(row)


def list_experiments(conn: psycopg.Connection[Any]) -> list[Experiment]:
    """Every experiment, newest first."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM experiments ORDER BY created_at DESC").fetchall()
    return [_experiment(r) for r in rows]


def get_experiment(conn: psycopg.Connection[Any], experiment_id: str) -> Experiment:
    """One experiment, or ExperimentNotFound."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM experiments WHERE experiment_id = %s", (experiment_id,)
    ).fetchone()
    if row is None:
        raise ExperimentNotFound(f"no experiment {experiment_id!r}")
    return _experiment(row)


def active_experiment(conn: psycopg.Connection[Any]) -> Experiment | None:
    """The running experiment whose window holds now (the most recently started one)."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM experiments WHERE status = 'running' AND starts_at <= now() "
        "AND (ends_at IS NULL OR ends_at > now()) ORDER BY starts_at DESC LIMIT 1"
    ).fetchone()
    return _experiment(row) if row else None


# Exposures and conversions are counted per user: assignment is per user, so users are the
# independent units the z-test and the sample-ratio check assume (lists of one user are not).
_RESULTS_SQL = """
WITH exposed AS (
    SELECT variant, user_id, array_agg(prediction_id) AS lists
    FROM model_predictions WHERE experiment_id = %(id)s GROUP BY variant, user_id
), converted AS (
    SELECT DISTINCT p.variant, p.user_id
    FROM ml_feedback f JOIN model_predictions p USING (prediction_id)
    WHERE p.experiment_id = %(id)s AND f.action = ANY(%(actions)s)
)
SELECT e.variant, count(*) AS exposures, count(c.user_id) AS conversions
FROM exposed e LEFT JOIN converted c USING (variant, user_id)
GROUP BY e.variant
"""


def experiment_results(conn: psycopg.Connection[Any], experiment_id: str) -> dict[str, Any]:
    """Exposures, conversions and rate per variant; lift, CI and p-value vs control; SRM."""
    experiment = get_experiment(conn, experiment_id)
    actions = [a for a, depth in FUNNEL.items() if depth >= FUNNEL[experiment.goal]]
    counts = {
        row[0]: (int(row[1]), int(row[2]))
        for row in conn.execute(_RESULTS_SQL, {"id": experiment_id, "actions": actions})
    }
    return results_from_counts(experiment, counts)


def results_from_counts(
    experiment: Experiment, counts: dict[str, tuple[int, int]]
) -> dict[str, Any]:
    """The results document from (exposures, conversions) per variant name."""
    control = experiment.variants[0]
    ce, cc = counts.get(control.name, (0, 0))
    variants = []
    for variant in experiment.variants:
        exposures, conversions = counts.get(variant.name, (0, 0))
        entry: dict[str, Any] = {
            "name": variant.name,
            "algorithm": variant.algorithm,
            "weight": variant.weight,
            "exposures": exposures,
            "conversions": conversions,
            "conversion_rate": conversions / exposures if exposures else None,
            "is_control": variant is control,
        }
        if variant is not control:
            cmp = compare_proportions(cc, ce, conversions, exposures)
            entry |= {
                "absolute_lift": _num(cmp.absolute_lift),
                "absolute_lift_ci95": [_num(x) for x in cmp.absolute_ci],
                "relative_lift": _num(cmp.relative_lift),
                "relative_lift_ci95": [_num(x) for x in cmp.relative_ci]
                if cmp.relative_ci
                else None,
                "z": _num(cmp.z),
                "p_value": _num(cmp.p_value),
            }
        variants.append(entry)
    srm = sample_ratio_check(
        [counts.get(v.name, (0, 0))[0] for v in experiment.variants],
        [v.weight for v in experiment.variants],
    )
    return {
        "experiment": experiment.as_dict(),
        "goal": experiment.goal,
        "variants": variants,
        "sample_ratio": {"chi2": srm.chi2, "p_value": srm.p_value, "mismatch": srm.mismatch},
    }


def _num(value: float | None) -> float | None:
    if value is None or value != value:  # NaN: not computable (no exposures yet)
        return None
    return float(value)

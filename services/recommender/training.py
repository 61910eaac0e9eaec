"""`beacon train events`: fit every recommender, evaluate on a time split, register, gate, promote.

Hyperparameters are tuned on a validation window cut from the training split (tuning.py); the
metrics come from models fitted on the interactions before the test cutoff; the registered
version is then refitted on everything (feedback included), so the served model knows the
newest users and events. Promotion needs three gates: the served algorithm at least matches
plain and recency-weighted popularity on the test split, every user with history gets a
non-empty list from the current catalogue, and the new hybrid NDCG@10 trails the champion's
recorded one by at most `rec_promotion_margin`. A tuned blend that scores below the better
popularity baseline on the test split is never served: the hybrid becomes that baseline (so
a first training still yields a servable champion) and the refused blend's score is logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from services.core.database import Database
from services.core.errors import InputError
from services.recommender.algorithms import HYBRID, EventsModel, fit_events_model
from services.recommender.evaluation import K, Metrics, candidate_items, evaluate, time_split
from services.recommender.gates import BASELINES, baseline_failure, empty_list_failure
from services.recommender.settings import RecommenderSettings
from services.recommender.store import read_event_starts, read_event_vectors, read_interactions
from services.recommender.tuning import Tuned, tune

log = logging.getLogger(__name__)

GATE_METRIC = f"test_ndcg_at_{K}_{HYBRID}"
FAMILY = "events-recommenders"


@dataclass
class EventsTrainOutcome:
    """What a training run measured and did."""

    metrics: dict[str, Metrics]
    version: str | None
    promoted: bool
    gate: str
    interactions: int
    run_id: str | None = None
    champion_ndcg: float | None = None
    flat_metrics: dict[str, float] = field(default_factory=dict)


def _fitter(settings: RecommenderSettings, vectors, extra) -> Callable[..., EventsModel]:
    def fit(frame: pd.DataFrame, **params) -> EventsModel:
        return fit_events_model(
            frame,
            vectors,
            factors=settings.rec_als_factors,
            iterations=settings.rec_als_iterations,
            neighbours=settings.rec_knn_neighbours,
            seed=settings.events_seed,
            extra_items=extra,
            **params,
        )

    return fit


@dataclass
class OfflineResult:
    """Tuned hyperparameters, test metrics per algorithm, and how to refit with them."""

    tuned: Tuned
    metrics: dict[str, Metrics]
    fit: Callable[..., EventsModel]
    cutoff: pd.Timestamp
    refused_blend: str | None = None  # why the tuned blend was replaced by a baseline
    refused_ndcg: float | None = None  # the refused blend's test NDCG@10

    @property
    def params(self) -> dict:
        """Keyword arguments of `fit` that carry the tuned values."""
        return {
            "half_life_days": self.tuned.half_life_days,
            "ease_lambda": self.tuned.ease_lambda,
            "hybrid_weights": self.tuned.hybrid_weights,
        }


def evaluate_offline(
    frame: pd.DataFrame,
    vectors: dict,
    starts: dict[str, pd.Timestamp],
    settings: RecommenderSettings,
    say: Callable[[str], None] = print,
) -> OfflineResult:
    """Global time split, tuning on a window of the training period, test metrics."""
    split = time_split(frame, settings.rec_test_share)
    say(
        f"time split at {split.cutoff:%Y-%m-%d %H:%M}: {len(split.train)} train, "
        f"{len(split.test)} test interactions"
    )
    # Events nobody touched yet (future listings) still enter the catalogue via content.
    fit = _fitter(settings, vectors, list(vectors))
    tuned = tune(
        split.train,
        fit,
        starts,
        valid_share=settings.rec_test_share,
        seed=settings.events_seed,
        say=say,
    )
    result = OfflineResult(tuned, {}, fit, split.cutoff)
    say("fitting every algorithm (hybrid with the tuned blend) on the train split")
    model = fit(split.train, **result.params)
    result.metrics = evaluate(model, split, starts=starts)
    refused = baseline_failure(result.metrics, HYBRID)
    if refused:
        # Never serve a blend below a popularity baseline: the hybrid becomes that baseline
        # (it then scores exactly the baseline's NDCG), and the refused blend is recorded.
        best = max(BASELINES, key=lambda b: result.metrics[b].ndcg)
        result.refused_blend = f"tuned blend refused ({refused}); the hybrid serves {best}"
        say(result.refused_blend)
        result.refused_ndcg = result.metrics[HYBRID].ndcg
        result.tuned.hybrid_weights = {best: 1.0}
        model.hybrid_weights = {best: 1.0}
        result.metrics |= evaluate(model, split, starts=starts, algorithms=(HYBRID,))
    return result


def train_events(
    settings: RecommenderSettings,
    db: Database,
    *,
    data: pd.DataFrame | None = None,
    source: str = "database",
    promote_allowed: bool = True,
    say: Callable[[str], None] = print,
) -> EventsTrainOutcome:
    """Train, evaluate, log to MLflow and register; promote when the gate passes."""
    with db.connection() as conn:
        frame = read_interactions(conn) if data is None else data
        starts = read_event_starts(conn)
        vectors = read_event_vectors(conn)
    if frame.empty:
        raise InputError("no interactions stored: run `beacon events generate` or pass --data FILE")
    say(
        f"{len(frame)} interactions from {source} "
        f"({frame['user_id'].nunique()} users, {frame['event_id'].nunique()} items)"
    )
    if data is not None:
        # A user's file: its items may not be stored events, so no event catalogue joins in.
        items = set(frame["event_id"])
        vectors = {k: v for k, v in vectors.items() if k in items}
        starts = {k: v for k, v in starts.items() if k in items}
    offline = evaluate_offline(frame, vectors, starts, settings, say)
    metrics = offline.metrics
    flat: dict[str, float] = {}
    for algorithm, m in metrics.items():
        flat |= m.as_dict(algorithm)
    flat |= {f"valid_ndcg_at_{K}_{k}": v for k, v in offline.tuned.validation.items()}
    if offline.refused_ndcg is not None:
        flat[f"test_ndcg_at_{K}_refused_blend"] = offline.refused_ndcg
    fit, params = offline.fit, offline.params
    say("refitting on every interaction for serving")
    final = fit(frame, **params)
    failures = [
        f
        for f in (
            baseline_failure(metrics, settings.rec_default_algorithm),
            # The catalogue the API will serve from now: upcoming events and undated items.
            empty_list_failure(final, candidate_items(final, starts, pd.Timestamp.now(tz="UTC"))),
        )
        if f
    ]
    return _register(
        settings,
        db,
        final,
        metrics,
        flat,
        len(frame),
        source,
        promote_allowed,
        say,
        failures,
        offline.refused_blend,
    )


def _register(
    settings: RecommenderSettings,
    db: Database,
    model: EventsModel,
    metrics: dict[str, Metrics],
    flat: dict[str, float],
    interactions: int,
    source: str,
    promote_allowed: bool,
    say: Callable[[str], None],
    failures: list[str] | None = None,
    note: str | None = None,
) -> EventsTrainOutcome:
    """Log the run, register the version, decide promotion and record it in model_versions."""
    import mlflow

    from services.mlops.registry import (
        CHAMPION,
        alias_version,
        client,
        ensure_experiment,
        promote,
        register_logged_model,
    )
    from services.recommender.artifacts import log_events_model

    name = settings.events_model_name
    champion = alias_version(name, CHAMPION, settings)
    champion_ndcg = None
    if champion is not None and champion.run_id:
        champion_ndcg = client(settings).get_run(champion.run_id).data.metrics.get(GATE_METRIC)
    with mlflow.start_run(
        experiment_id=ensure_experiment(name, settings), run_name=f"{name}-train"
    ) as run:
        mlflow.log_params(_run_params(settings, model, source, interactions))
        mlflow.log_metrics(flat)
        info = log_events_model(model)
    version = register_logged_model(
        name,
        info.model_uri,
        threshold=0.0,  # ranking models have no decision threshold
        family=FAMILY,
        tags={"beacon.algorithms": ",".join(metrics), "beacon.source": source},
        settings=settings,
    )
    gate, promoted = _gate_decision(
        settings, flat.get(GATE_METRIC, 0.0), champion_ndcg, failures, promote_allowed, note
    )
    if promoted:
        promote(name, settings, str(version.version))
    say(f"registered {name} version {version.version}; gate {gate}")
    _record_version(db, name, str(version.version), run.info.run_id, metrics, flat, promoted, gate)
    return EventsTrainOutcome(
        metrics=metrics,
        version=str(version.version),
        promoted=promoted,
        gate=gate,
        interactions=interactions,
        run_id=run.info.run_id,
        champion_ndcg=champion_ndcg,
        flat_metrics=flat,
    )


def _run_params(
    settings: RecommenderSettings, model: EventsModel, source: str, interactions: int
) -> dict[str, Any]:
    """What a training run logs as its parameters: data, settings and the tuned values."""
    return {
        "source": source,
        "interactions": interactions,
        "als_factors": settings.rec_als_factors,
        "als_iterations": settings.rec_als_iterations,
        "knn_neighbours": settings.rec_knn_neighbours,
        "test_share": settings.rec_test_share,
        "seed": settings.events_seed,
        "served_algorithm": settings.rec_default_algorithm,
        **{f"tuned_{k}": v for k, v in model.params.items()},
        **{f"hybrid_weight_{k}": v for k, v in model.hybrid_weights.items()},
    }


def _gate_decision(
    settings: RecommenderSettings,
    new: float,
    champion_ndcg: float | None,
    failures: list[str] | None,
    promote_allowed: bool,
    note: str | None,
) -> tuple[str, bool]:
    """(gate text, promoted) of a new events model against the champion's hybrid NDCG."""
    if not promote_allowed:
        gate, promoted = "not promoted: trained on an external file (promote by hand)", False
        if failures:
            gate += "; gates failed: " + "; ".join(failures)
    elif failures:
        gate, promoted = "failed: " + "; ".join(failures), False
    elif champion_ndcg is None:
        gate, promoted = "no champion yet: promoted", True
    elif new >= champion_ndcg - settings.rec_promotion_margin:
        gate = (
            f"passed: hybrid NDCG@{K} {new:.4f} vs champion {champion_ndcg:.4f} "
            f"(margin {settings.rec_promotion_margin})"
        )
        promoted = True
    else:
        gate = (
            f"failed: hybrid NDCG@{K} {new:.4f} trails champion {champion_ndcg:.4f} "
            f"by more than {settings.rec_promotion_margin}"
        )
        promoted = False
    if note:
        gate = f"{gate}; {note}"
    return gate, promoted


def _record_version(
    db: Database,
    name: str,
    version: str,
    run_id: str,
    metrics: dict[str, Metrics],
    flat: dict[str, float],
    promoted: bool,
    gate: str,
) -> None:
    """Upsert the version's row in model_versions (the API's model history)."""
    with db.connection() as conn:
        conn.execute(
            "INSERT INTO model_versions (model_name, version, run_id, algorithms, metrics, "
            "promoted, gate) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (model_name, version) DO UPDATE SET promoted = EXCLUDED.promoted, "
            "gate = EXCLUDED.gate",
            (
                name,
                version,
                run_id,
                list(metrics),
                json.dumps(flat),
                promoted,
                gate,
            ),
        )

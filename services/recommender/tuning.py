"""Hyperparameters chosen on a validation window cut from the training period only.

The newest `valid_share` of the training interactions plays the test set's role: the recency
half-life, the EASE regularisation and the hybrid's blend weights are picked by NDCG@10 there,
so the held-out test split never influences the model it scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from services.core.errors import InputError
from services.recommender.algorithms import (
    COMPONENTS,
    CONTENT,
    DEFAULT_EASE_LAMBDA,
    DEFAULT_HALF_LIFE_DAYS,
    EASE,
    HYBRID_WEIGHTS,
    RECENT_POPULARITY,
    EventsModel,
    _blendable,
    fit_ease,
    recent_popularity,
    row_minmax,
)
from services.recommender.evaluation import (
    EvalSet,
    K,
    block_metrics,
    eval_set,
    evaluate,
    rank_hits,
    time_split,
)

#: Half-lives tried, as shares of the fitting window's time span.
HALF_LIFE_SHARES = (0.01, 0.03, 0.1, 0.3, 1.0)
EASE_LAMBDAS = (5.0, 25.0, 100.0, 400.0, 1500.0)
#: Weights tried per component by the coordinate search of the hybrid's blend.
WEIGHT_GRID = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)
#: Validation users scored when tuning the blend (a seeded sample beyond this).
MAX_TUNE_USERS = 1500


@dataclass
class Tuned:
    """The chosen values and the validation NDCG@10 each choice reached."""

    half_life_days: float
    ease_lambda: float
    hybrid_weights: dict[str, float]
    validation: dict[str, float] = field(default_factory=dict)


def tune(
    train: pd.DataFrame,
    fit: Callable[..., EventsModel],
    starts: dict[str, pd.Timestamp],
    *,
    valid_share: float,
    seed: int,
    say: Callable[[str], None] = print,
) -> Tuned:
    """Split `train` by time again, fit on its older part and tune on its newest part.

    `fit(frame, **params)` fits an EventsModel; the tuned values are meant for refits on the
    whole training split (and later on everything).
    """
    try:
        split = time_split(train, valid_share)
        model = fit(split.train)
        data = eval_set(model, split, starts)
    except InputError as exc:
        say(f"tuning skipped ({exc}); using the default hyperparameters")
        return Tuned(DEFAULT_HALF_LIFE_DAYS, DEFAULT_EASE_LAMBDA, dict(HYBRID_WEIGHTS))
    span = (split.train["occurred_at"].max() - split.train["occurred_at"].min()).total_seconds()
    span_days = max(span / 86400, 1e-3)
    say(
        f"tuning on a validation window from {split.cutoff:%Y-%m-%d %H:%M} "
        f"({len(split.test)} interactions, {len(data.users)} users)"
    )

    def ndcg(algorithm: str) -> float:
        return evaluate(model, split, algorithms=(algorithm,), prepared=data)[algorithm].ndcg

    best_h, best = 0.0, -1.0
    for share in HALF_LIFE_SHARES:
        days = round(span_days * share, 4)
        model.recent_popularity = recent_popularity(split.train, model.item_ids, days)
        score = ndcg(RECENT_POPULARITY)
        if score > best:
            best_h, best = days, score
    model.recent_popularity = recent_popularity(split.train, model.item_ids, best_h)
    say(f"  recency half-life {best_h:g} days (validation NDCG@{K} {best:.4f})")
    validation = {RECENT_POPULARITY: best}
    best_l, best = 0.0, -1.0
    for lam in EASE_LAMBDAS:
        model.ease = fit_ease(model.user_items, lam)
        score = ndcg(EASE)
        if score > best:
            best_l, best = lam, score
    model.ease = fit_ease(model.user_items, best_l)
    say(f"  EASE lambda {best_l:g} (validation NDCG@{K} {best:.4f})")
    validation[EASE] = best
    weights, score = blend_weights(model, data, seed=seed)
    shown = ", ".join(f"{k} {v:g}" for k, v in weights.items() if v)
    say(f"  blend of the hybrid: {shown} (validation NDCG@{K} {score:.4f})")
    validation["hybrid"] = score
    return Tuned(best_h, best_l, weights, validation)


def blend_weights(
    model: EventsModel, data: EvalSet, *, seed: int
) -> tuple[dict[str, float], float]:
    """Coordinate search of the hybrid's weights by validation NDCG@10.

    Starts from the best single component, so the blend is never worse on validation than
    any of its parts (recency-weighted popularity included).
    """
    if len(data.users) > MAX_TUNE_USERS:
        rows = np.sort(np.random.default_rng(seed).choice(len(data.users), MAX_TUNE_USERS, False))
        data = data.subset(rows)
    rows = slice(0, len(data.users))
    seen, relevant = data.block(model, rows)
    parts = [c for c in COMPONENTS if c != CONTENT or model.has_content]
    normalised = {
        c: row_minmax(
            _blendable(c, model.score_matrix(c, data.users, data.candidates, seen)), seen
        ).astype(np.float32)
        for c in parts
    }

    def score(weights: dict[str, float]) -> float:
        total = np.zeros(seen.shape, dtype=np.float32)
        for c, w in weights.items():
            if w:
                total += np.float32(w) * normalised[c]
        hits, _ = rank_hits(total, seen, relevant, K)
        return float(block_metrics(hits, data.wanted, K)[2].mean())

    singles = {c: score({c: 1.0}) for c in parts}
    first = max(parts, key=lambda c: (singles[c], -parts.index(c)))
    weights = {c: 1.0 if c == first else 0.0 for c in parts}
    best = singles[first]
    for _ in range(2):
        improved = False
        for c in parts:
            for w in WEIGHT_GRID:
                if w == weights[c]:
                    continue
                trial = weights | {c: w}
                if not any(trial.values()):
                    continue
                value = score(trial)
                if value > best + 1e-9:
                    weights, best, improved = trial, value, True
        if not improved:
            break
    return weights, best

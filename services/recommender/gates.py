"""Gates a recommender bundle must pass before it serves: baselines and non-empty lists."""

from __future__ import annotations

import numpy as np

from services.recommender.algorithms import POPULARITY, RECENT_POPULARITY, EventsModel
from services.recommender.evaluation import K, Metrics

#: The served algorithm must match the better of these on the same test split.
BASELINES = (POPULARITY, RECENT_POPULARITY)


def baseline_failure(metrics: dict[str, Metrics], served: str) -> str | None:
    """Why `served` may not serve (its NDCG@10 is below a popularity baseline), or None."""
    bars = {b: metrics[b].ndcg for b in BASELINES if b in metrics}
    if served not in metrics or not bars:
        return f"{served}: no offline metrics to compare with the popularity baselines"
    name, bar = max(bars.items(), key=lambda kv: kv[1])
    score = metrics[served].ndcg
    if score < bar:
        return f"{served} NDCG@{K} {score:.4f} is below {name} {bar:.4f} on the same split"
    return None


def users_without_lists(model: EventsModel, candidates: np.ndarray) -> np.ndarray:
    """Indices of users with training history whose list over `candidates` would be empty.

    A user's list is empty when the candidates hold nothing they have not seen already
    (or there are no candidates at all).
    """
    has_history = np.diff(model.user_items.indptr) > 0
    candidates = np.unique(np.asarray(candidates, dtype=np.int64))
    if len(candidates) == 0:
        return np.flatnonzero(has_history)
    seen_candidates = np.diff(model.user_items[:, candidates].tocsr().indptr)
    return np.flatnonzero(has_history & (seen_candidates >= len(candidates)))


def empty_list_failure(model: EventsModel, candidates: np.ndarray) -> str | None:
    """Why the bundle would serve empty lists to known users over `candidates`, or None."""
    empty = users_without_lists(model, candidates)
    if len(empty) == 0:
        return None
    return (
        f"{len(empty)} of {len(model.user_ids)} users with history would get an empty list "
        f"({len(np.unique(candidates))} recommendable items in the catalogue)"
    )

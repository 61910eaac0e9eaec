"""Offline evaluation: a time-based split and precision, recall, NDCG at k and coverage."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.core.errors import InputError
from services.recommender.algorithms import ALGORITHMS, EventsModel

K = 10
#: A test interaction is relevant from this weight up: a save or purchase, or a rating of 4+.
RELEVANT_WEIGHT = 3.0


@dataclass(frozen=True)
class Split:
    """Interactions before the cutoff train; the relevant ones from it on are the test."""

    train: pd.DataFrame
    test: pd.DataFrame
    cutoff: pd.Timestamp


@dataclass(frozen=True)
class Metrics:
    """Mean metrics over the evaluated users, and the share of candidates ever recommended."""

    precision: float
    recall: float
    ndcg: float
    coverage: float
    users: int

    def as_dict(self, algorithm: str) -> dict[str, float]:
        """MLflow metric names (`test_` prefix: /v1/model/info reports those)."""
        return {
            f"test_precision_at_{K}_{algorithm}": self.precision,
            f"test_recall_at_{K}_{algorithm}": self.recall,
            f"test_ndcg_at_{K}_{algorithm}": self.ndcg,
            f"test_coverage_{algorithm}": self.coverage,
        }


def time_split(interactions: pd.DataFrame, test_share: float) -> Split:
    """Cut at the time below which `1 - test_share` of the interactions happened."""
    if interactions.empty:
        raise InputError("no interactions to split")
    times = interactions["occurred_at"]
    cutoff = times.sort_values(kind="stable").iloc[int(len(times) * (1 - test_share))]
    train = interactions[times < cutoff]
    test = interactions[times >= cutoff]
    if train.empty or test.empty:
        raise InputError("the time-based split left an empty train or test set; add interactions")
    return Split(train.reset_index(drop=True), test.reset_index(drop=True), cutoff)


def candidate_items(model: EventsModel, starts: dict[str, pd.Timestamp], cutoff) -> np.ndarray:
    """Item indices recommendable at `cutoff`: events starting later, and items of unknown start
    (a user's own file may name items that are not stored events, such as films)."""
    keep = [
        i
        for i, item in enumerate(model.item_ids.tolist())
        if item not in starts or starts[item] >= cutoff
    ]
    return np.asarray(keep, dtype=np.int64)


def evaluate(
    model: EventsModel,
    split: Split,
    *,
    starts: dict[str, pd.Timestamp] | None = None,
    algorithms: tuple[str, ...] = ALGORITHMS,
    k: int = K,
) -> dict[str, Metrics]:
    """Metrics per algorithm over warm test users (known in training, with relevant items).

    Items seen in training are neither recommended nor counted as relevant; relevant test
    items the model cannot recommend (unknown or past) still count in recall's denominator.
    """
    candidates = candidate_items(model, starts or {}, split.cutoff)
    relevant = split.test[split.test["weight"] >= RELEVANT_WEIGHT]
    truth: dict[int, set[int]] = {}
    for user_id, items in relevant.groupby("user_id")["event_id"]:
        user = model.user_index.get(user_id)
        if user is None:
            continue
        seen = set(model.seen(user).tolist())
        wanted = {model.item_index.get(i, -1 - n) for n, i in enumerate(items)} - seen
        if wanted:
            truth[user] = wanted
    if not truth:
        raise InputError("no test user with relevant interactions is known from training")
    out = {}
    for algorithm in algorithms:
        if algorithm == "content" and not model.has_content:
            continue
        precision, recall, ndcg, shown = [], [], [], set()
        for user, wanted in truth.items():
            user_id = model.user_ids[user]
            items, _ = model.recommend(algorithm, user_id, candidates, k)
            hits = [int(i) in wanted for i in items]
            shown.update(items.tolist())
            precision.append(sum(hits) / k)
            recall.append(sum(hits) / len(wanted))
            ndcg.append(ndcg_at_k(hits, len(wanted), k))
        out[algorithm] = Metrics(
            precision=float(np.mean(precision)),
            recall=float(np.mean(recall)),
            ndcg=float(np.mean(ndcg)),
            coverage=len(shown) / max(len(candidates), 1),
            users=len(truth),
        )
    return out


def ndcg_at_k(hits: list[bool], relevant: int, k: int = K) -> float:
    """Binary-relevance NDCG: DCG of the hits over the DCG of a perfect list."""
    dcg = sum(1.0 / math.log2(rank + 2) for rank, hit in enumerate(hits[:k]) if hit)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(relevant, k)))
    return dcg / ideal if ideal else 0.0

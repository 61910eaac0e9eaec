"""Offline evaluation: a time-based split and precision, recall, NDCG at k and coverage."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.core.errors import InputError
from services.recommender.algorithms import CONTENT, OFFLINE_ALGORITHMS, EventsModel

K = 10
#: A test interaction is relevant from this weight up: a save or purchase, or a rating of 4+.
RELEVANT_WEIGHT = 3.0
#: Users scored per block: bounds the users x candidates matrices on large catalogues.
BLOCK_USERS = 512


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


@dataclass(frozen=True)
class EvalSet:
    """Warm test users, the candidates at the cutoff and each user's relevant items."""

    users: np.ndarray  # model user indices
    candidates: np.ndarray  # model item indices
    relevant: list[np.ndarray]  # per user: positions in `candidates` of relevant items
    wanted: np.ndarray  # per user: relevant items, unrecommendable ones included

    def block(self, model: EventsModel, rows: slice) -> tuple[np.ndarray, np.ndarray]:
        """(seen mask, relevance mask) of a block of users, users x candidates."""
        users = self.users[rows]
        seen = model.user_items[users][:, self.candidates].toarray() > 0
        relevant = np.zeros_like(seen)
        for row, positions in enumerate(self.relevant[rows]):
            relevant[row, positions] = True
        return seen, relevant

    def subset(self, rows: np.ndarray) -> EvalSet:
        """The same set restricted to some users (tuning samples users on big data)."""
        return EvalSet(
            self.users[rows], self.candidates, [self.relevant[r] for r in rows], self.wanted[rows]
        )


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
    """Item indices recommendable at `cutoff`: events starting later, and items without a start
    (catalogue items such as films, or items of a user's file that are not stored events)."""
    keep = [
        i
        for i, item in enumerate(model.item_ids.tolist())
        if starts.get(item) is None or starts[item] >= cutoff
    ]
    return np.asarray(keep, dtype=np.int64)


def eval_set(model: EventsModel, split: Split, starts: dict[str, pd.Timestamp]) -> EvalSet:
    """Test users known from training with relevant test items they had not seen.

    Relevant items the model cannot recommend (unknown or past) still count in recall's
    denominator, so a model is not rewarded for a catalogue that hides them.
    """
    candidates = candidate_items(model, starts, split.cutoff)
    position = {int(item): n for n, item in enumerate(candidates)}
    relevant = split.test[split.test["weight"] >= RELEVANT_WEIGHT]
    users, positions, wanted = [], [], []
    for user_id, items in relevant.groupby("user_id", sort=True)["event_id"]:
        user = model.user_index.get(user_id)
        if user is None:
            continue
        seen = set(model.seen(user).tolist())
        distinct = {model.item_index.get(i, -1 - n) for n, i in enumerate(items.unique())}
        distinct -= seen
        if not distinct:
            continue
        users.append(user)
        positions.append(np.asarray(sorted(position[i] for i in distinct if i in position)))
        wanted.append(len(distinct))
    if not users:
        raise InputError("no test user with relevant interactions is known from training")
    return EvalSet(
        np.asarray(users, dtype=np.int64),
        candidates,
        [p.astype(np.int64) for p in positions],
        np.asarray(wanted, dtype=np.float64),
    )


def rank_hits(scores: np.ndarray, seen: np.ndarray, relevant: np.ndarray, k: int) -> tuple:
    """(hits users x k, shown users x k) of the top-k unseen candidates per row.

    Ties go to the lower candidate position, as in `top_k`; a row with fewer than k unseen
    candidates shows fewer.
    """
    masked = np.where(seen, -np.inf, scores)
    k = min(k, masked.shape[1])
    if k == 0:
        empty = np.zeros((masked.shape[0], 0), dtype=bool)
        return empty, np.zeros((masked.shape[0], 0), dtype=np.int64)
    top = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    rows = np.arange(masked.shape[0])[:, None]
    shown = np.isfinite(masked[rows, top])
    return relevant[rows, top] & shown, np.where(shown, top, -1)


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(k) + 2)


def block_metrics(hits: np.ndarray, wanted: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Per-user precision, recall and NDCG at k from a hits matrix (binary relevance)."""
    discounts = _discounts(k)
    found = hits.sum(axis=1)
    dcg = (hits * discounts[: hits.shape[1]]).sum(axis=1)
    ideal_cum = np.concatenate([[0.0], np.cumsum(discounts)])
    ideal = ideal_cum[np.minimum(wanted, k).astype(int)]
    return found / k, found / wanted, np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1), 0)


def evaluate(
    model: EventsModel,
    split: Split,
    *,
    starts: dict[str, pd.Timestamp] | None = None,
    algorithms: tuple[str, ...] = OFFLINE_ALGORITHMS,
    k: int = K,
    prepared: EvalSet | None = None,
) -> dict[str, Metrics]:
    """Metrics per algorithm over warm test users (known in training, with relevant items).

    Items seen in training are neither recommended nor counted as relevant.
    """
    data = prepared or eval_set(model, split, starts or {})
    out = {}
    for algorithm in algorithms:
        if algorithm == CONTENT and not model.has_content:
            continue
        parts: list[tuple[np.ndarray, ...]] = []
        shown: set[int] = set()
        for start in range(0, len(data.users), BLOCK_USERS):
            rows = slice(start, start + BLOCK_USERS)
            seen, relevant = data.block(model, rows)
            scores = model.score_matrix(algorithm, data.users[rows], data.candidates, seen)
            hits, top = rank_hits(scores, seen, relevant, k)
            parts.append(block_metrics(hits, data.wanted[rows], k))
            shown.update(np.unique(top[top >= 0]).tolist())
        precision, recall, ndcg = (np.concatenate(p) for p in zip(*parts, strict=True))
        out[algorithm] = Metrics(
            precision=float(precision.mean()),
            recall=float(recall.mean()),
            ndcg=float(ndcg.mean()),
            coverage=len(shown) / max(len(data.candidates), 1),
            users=len(data.users),
        )
    return out


def ndcg_at_k(hits: list[bool], relevant: int, k: int = K) -> float:
    """Binary-relevance NDCG: DCG of the hits over the DCG of a perfect list."""
    dcg = sum(1.0 / math.log2(rank + 2) for rank, hit in enumerate(hits[:k]) if hit)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(relevant, k)))
    return dcg / ideal if ideal else 0.0


def metrics_table(metrics: dict[str, Metrics], k: int = K) -> str:
    """The offline table: precision, recall, NDCG at k, coverage, and NDCG relative to plain
    and recency-weighted popularity (the bars a served model must clear)."""
    users = next(iter(metrics.values())).users if metrics else 0
    bars = {b: metrics[b].ndcg for b in ("popularity", "recent_popularity") if b in metrics}
    lines = [
        f"{'algorithm':<18} {'precision@' + str(k):>13} {'recall@' + str(k):>10} "
        f"{'NDCG@' + str(k):>8} {'coverage':>9} {'x pop':>6} {'x recent':>8}   ({users} test users)"
    ]
    for algorithm, m in metrics.items():
        ratios = [m.ndcg / bar if bar > 0 else math.nan for bar in bars.values()]
        shown = " ".join(f"{r:>{w}.2f}" for r, w in zip(ratios, (6, 8), strict=False))
        lines.append(
            f"{algorithm:<18} {m.precision:>13.4f} {m.recall:>10.4f} {m.ndcg:>8.4f} "
            f"{m.coverage:>9.3f} {shown}"
        )
    return "\n".join(lines)

"""Recommenders behind one interface: popularity, recency, item CF, ALS, EASE, content, hybrid.

One `EventsModel` holds every algorithm trained on the same interactions, so an A/B variant
is just an algorithm name and a registry version carries the whole set. Scores are computed
for a given array of candidate items (the upcoming events that pass the request's filters),
one user at a time for serving or as a users x items matrix for offline evaluation.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from services.core.errors import InputError

POPULARITY, ITEM_KNN, ALS, CONTENT, HYBRID = "popularity", "item_knn", "als", "content", "hybrid"
RECENT_POPULARITY, EASE = "recent_popularity", "ease"
#: Algorithms an API request or A/B variant may name (the API schema lists exactly these).
ALGORITHMS = (POPULARITY, ITEM_KNN, ALS, CONTENT, HYBRID)
#: Every algorithm evaluated offline: the served ones plus the components only the hybrid
#: serves (recency-weighted popularity, the bar a model must clear, and EASE).
OFFLINE_ALGORITHMS = (POPULARITY, RECENT_POPULARITY, ITEM_KNN, ALS, EASE, CONTENT, HYBRID)
#: The hybrid's parts; their weights are tuned on a validation window (see tuning.py).
COMPONENTS = (POPULARITY, RECENT_POPULARITY, ITEM_KNN, ALS, EASE, CONTENT)
#: Blend of min-max normalised component scores before tuning (and for bundles that predate it).
HYBRID_WEIGHTS = {ALS: 0.35, ITEM_KNN: 0.35, CONTENT: 0.2, POPULARITY: 0.1}
#: Recency half-life and EASE regularisation before tuning (tuning.py picks them per data set).
DEFAULT_HALF_LIFE_DAYS = 7.0
DEFAULT_EASE_LAMBDA = 50.0
#: EASE inverts a dense items x items matrix: beyond this many items only the most
#: interacted ones take part (3,000 items: a 72 MB matrix and about a second to invert).
EASE_MAX_ITEMS = 3000
#: Weights kept per item column of the EASE matrix (the rest are near zero).
EASE_KEEP = 200
BUNDLE_FILE = "events_model.npz"
META_FILE = "events_model.json"


def check_algorithm(name: str) -> str:
    """`name` if it is a known algorithm, else InputError naming the choices."""
    if name not in ALGORITHMS:
        raise InputError(f"unknown algorithm {name!r}; choose one of {', '.join(ALGORITHMS)}")
    return name


@dataclass
class EventsModel:
    """Every algorithm fitted on one user x item matrix (rows: user_ids, columns: item_ids)."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    user_items: sp.csr_matrix
    popularity: np.ndarray
    knn: sp.csr_matrix
    als_users: np.ndarray
    als_items: np.ndarray
    item_vectors: np.ndarray  # unit rows; zero rows for items without an embedding
    hybrid_weights: dict[str, float] = field(default_factory=lambda: dict(HYBRID_WEIGHTS))
    #: Popularity with each interaction discounted by its age at the end of training.
    recent_popularity: np.ndarray | None = None
    #: EASE item-item weights (row: from item, column: to item), pruned per column.
    ease: sp.csr_matrix | None = None
    #: Hyperparameters the bundle was fitted with (half-life, EASE lambda, ...), for the record.
    params: dict[str, float] = field(default_factory=dict)
    user_index: dict[str, int] = field(init=False, repr=False)
    item_index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.user_index = {u: i for i, u in enumerate(self.user_ids.tolist())}
        self.item_index = {e: i for i, e in enumerate(self.item_ids.tolist())}
        # Bundles written before these components existed still load and serve.
        if self.recent_popularity is None:
            self.recent_popularity = self.popularity.copy()
        if self.ease is None:
            self.ease = sp.csr_matrix((len(self.item_ids), len(self.item_ids)), dtype=np.float32)

    @property
    def has_content(self) -> bool:
        """True when at least one item has an embedding."""
        return self.item_vectors.size > 0 and bool(np.any(self.item_vectors))

    def seen(self, user: int) -> np.ndarray:
        """Item indices the user interacted with in training."""
        start, end = self.user_items.indptr[user], self.user_items.indptr[user + 1]
        return self.user_items.indices[start:end]

    def profile(self, user: int | None) -> np.ndarray | None:
        """Content profile: the unit mean of the embeddings of the user's training events."""
        if user is None or not self.has_content:
            return None
        seen = self.seen(user)
        if len(seen) == 0:
            return None
        return _unit(self.item_vectors[seen].mean(axis=0))

    def scores(
        self,
        algorithm: str,
        user: int | None,
        items: np.ndarray,
        profile: np.ndarray | None = None,
    ) -> np.ndarray:
        """Scores of candidate `items` (indices) for `user` (index; None: unknown user).

        An unknown user gets recency-weighted popularity (the caller filters by city first:
        cold start), except from plain popularity, and from the content model when a profile
        from their recent feedback is given.
        """
        if algorithm == POPULARITY:
            return self.popularity[items]
        if algorithm == RECENT_POPULARITY:
            return self.recent_popularity[items]
        if algorithm == CONTENT:
            vector = profile if profile is not None else self.profile(user)
            if vector is None:
                return self.recent_popularity[items]
            return _matvec(self.item_vectors, vector.astype(np.float32))[items]
        if user is None:
            return self.recent_popularity[items]
        if algorithm == ALS:
            return _matvec(self.als_items, self.als_users[user])[items]
        if algorithm == ITEM_KNN:
            # One sparse row times the pruned similarity matrix: every item's score at once,
            # cheaper than slicing the matrix's columns down to the candidates first.
            return (self.user_items[user] @ self.knn).toarray().ravel()[items]
        if algorithm == EASE:
            return (_binary(self.user_items[user]) @ self.ease).toarray().ravel()[items]
        if algorithm == HYBRID:
            total = np.zeros(len(items), dtype=np.float64)
            for part, weight in self.hybrid_weights.items():
                if weight and (part != CONTENT or self.has_content):
                    total += weight * _minmax(
                        _blendable(part, self.scores(part, user, items, profile))
                    )
            return total
        raise InputError(f"unknown algorithm {algorithm!r}")

    def score_matrix(
        self, algorithm: str, users: np.ndarray, items: np.ndarray, seen: np.ndarray
    ) -> np.ndarray:
        """Scores (len(users) x len(items)) of known `users` for candidate `items`, offline.

        `seen` (same shape, bool) marks items each user had in training: the hybrid normalises
        over the rest, as `recommend` does for one user. The caller masks them out of rankings.
        """
        shape = (len(users), len(items))
        if algorithm in (POPULARITY, RECENT_POPULARITY):
            values = self.popularity if algorithm == POPULARITY else self.recent_popularity
            return np.broadcast_to(values[items].astype(np.float64), shape).copy()
        rows = self.user_items[users]
        if algorithm == ALS:
            return self.als_users[users] @ self.als_items[items].T
        if algorithm == ITEM_KNN:
            return (rows @ self.knn[:, items]).toarray()
        if algorithm == EASE:
            return (_binary(rows) @ self.ease[:, items]).toarray()
        if algorithm == CONTENT:
            if not self.has_content:
                return self.score_matrix(RECENT_POPULARITY, users, items, seen)
            counts = np.asarray(rows.getnnz(axis=1)).reshape(-1, 1)
            profiles = (_binary(rows) @ self.item_vectors) / np.maximum(counts, 1)
            norms = np.linalg.norm(profiles, axis=1, keepdims=True)
            profiles = profiles / np.where(norms > 0, norms, 1.0)
            return profiles @ self.item_vectors[items].T
        if algorithm == HYBRID:
            total = np.zeros(shape, dtype=np.float64)
            for part, weight in self.hybrid_weights.items():
                if weight and (part != CONTENT or self.has_content):
                    values = _blendable(part, self.score_matrix(part, users, items, seen))
                    total += weight * row_minmax(values, seen)
            return total
        raise InputError(f"unknown algorithm {algorithm!r}")

    def recommend(
        self,
        algorithm: str,
        user_id: str,
        items: np.ndarray,
        k: int,
        *,
        exclude_seen: bool = True,
        profile: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (item indices, scores) among candidate item indices, best first."""
        user = self.user_index.get(user_id)
        if exclude_seen and user is not None and len(items):
            items = items[~np.isin(items, self.seen(user))]
        if len(items) == 0:
            return items, np.zeros(0)
        scores = self.scores(algorithm, user, items, profile)
        top = top_k(scores, k)
        return items[top], scores[top]

    # --- persistence: plain arrays (no pickle), so loading a version cannot run code ---

    def save(self, folder: Path) -> Path:
        """Write the bundle (npz + json) into `folder`; returns the folder."""
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {
            "user_ids": self.user_ids.astype(str),
            "item_ids": self.item_ids.astype(str),
            "popularity": self.popularity,
            "recent_popularity": self.recent_popularity,
            "als_users": self.als_users,
            "als_items": self.als_items,
            "item_vectors": self.item_vectors,
        }
        for name in ("user_items", "knn", "ease"):
            matrix: sp.csr_matrix = getattr(self, name)
            arrays |= {
                f"{name}_data": matrix.data,
                f"{name}_indices": matrix.indices,
                f"{name}_indptr": matrix.indptr,
                f"{name}_shape": np.asarray(matrix.shape),
            }
        np.savez(folder / BUNDLE_FILE, **arrays)
        meta = {
            "hybrid_weights": self.hybrid_weights,
            "algorithms": list(OFFLINE_ALGORITHMS),
            "params": self.params,
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2))
        return folder

    @classmethod
    def load(cls, folder: Path | str) -> EventsModel:
        """Read a bundle written by `save` (plain arrays only: allow_pickle stays off)."""
        folder = Path(folder)
        meta = json.loads((folder / META_FILE).read_text())
        with np.load(folder / BUNDLE_FILE, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}

        def csr(name: str) -> sp.csr_matrix | None:
            if f"{name}_shape" not in arrays:
                return None  # a bundle from before this component
            shape = tuple(int(x) for x in arrays[f"{name}_shape"])
            parts = (arrays[f"{name}_data"], arrays[f"{name}_indices"], arrays[f"{name}_indptr"])
            return sp.csr_matrix(parts, shape=shape)

        return cls(
            user_ids=arrays["user_ids"],
            item_ids=arrays["item_ids"],
            user_items=csr("user_items"),
            popularity=arrays["popularity"],
            knn=csr("knn"),
            als_users=arrays["als_users"],
            als_items=arrays["als_items"],
            item_vectors=arrays["item_vectors"],
            hybrid_weights={k: float(v) for k, v in meta["hybrid_weights"].items()},
            recent_popularity=arrays.get("recent_popularity"),
            ease=csr("ease"),
            params={k: float(v) for k, v in meta.get("params", {}).items()},
        )


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores, best first (ties by position, so deterministic)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]


def _matvec(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """matrix @ vector on the calling thread only.

    einsum's own loop, not BLAS: OpenBLAS spreads one small product over every core, and on a
    busy machine its spinning threads made a 5,000 x 384 product take 8 ms at the p95 instead
    of 0.4 ms. The API runs requests in parallel already.
    """
    return np.einsum("ij,j->i", matrix, vector)


def _minmax(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return values
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def _blendable(part: str, values: np.ndarray) -> np.ndarray:
    """Popularity counts on a log scale before blending: they are heavy-tailed, and min-max
    scaling raw counts would squash all but the few most popular items to about zero."""
    if part in (POPULARITY, RECENT_POPULARITY):
        return np.log1p(np.maximum(values, 0))
    return values


def row_minmax(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Min-max scale each row over its unmasked entries (masked ones become 0)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return values
    low = np.where(mask, np.inf, values).min(axis=1, keepdims=True)
    high = np.where(mask, -np.inf, values).max(axis=1, keepdims=True)
    span = high - low
    ok = np.isfinite(span) & (span > 0)
    out = np.where(ok, (values - np.where(ok, low, 0.0)) / np.where(ok, span, 1.0), 0.0)
    out[mask] = 0.0
    return out


def _binary(rows: sp.csr_matrix) -> sp.csr_matrix:
    """The same sparsity pattern with every stored weight set to 1."""
    out = rows.copy()
    out.data = np.ones_like(out.data)
    return out


def _unit(vector: np.ndarray) -> np.ndarray | None:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else None


def interaction_matrix(
    interactions: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix]:
    """(user ids, item ids, users x items CSR) with each pair's strongest action as its weight."""
    strongest = interactions.groupby(["user_id", "event_id"], sort=False)["weight"].max()
    users = strongest.index.get_level_values(0)
    items = strongest.index.get_level_values(1)
    user_codes, user_ids = pd.factorize(users, sort=True)
    item_codes, item_ids = pd.factorize(items, sort=True)
    matrix = sp.csr_matrix(
        (strongest.to_numpy(np.float32), (user_codes, item_codes)),
        shape=(len(user_ids), len(item_ids)),
    )
    return np.asarray(user_ids, dtype=str), np.asarray(item_ids, dtype=str), matrix


def fit_events_model(
    interactions: pd.DataFrame,
    item_vectors: dict[str, np.ndarray] | None = None,
    *,
    factors: int = 32,
    iterations: int = 15,
    neighbours: int = 50,
    seed: int = 42,
    extra_items: list[str] | None = None,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    ease_lambda: float = DEFAULT_EASE_LAMBDA,
    ease_max_items: int = EASE_MAX_ITEMS,
    hybrid_weights: dict[str, float] | None = None,
) -> EventsModel:
    """Fit every algorithm on `interactions` (user_id, event_id, weight[, occurred_at]).

    `extra_items` (events nobody has interacted with yet) join the catalogue with zero
    popularity so content-based and hybrid recommendations can still reach them.
    """
    if interactions.empty:
        raise InputError("no interactions to train on")
    columns = ["user_id", "event_id", "weight"]
    frame = interactions[columns + (["occurred_at"] if "occurred_at" in interactions else [])]
    if extra_items:
        known = set(frame["event_id"].unique())
        new = sorted(set(extra_items) - known)
        if new:
            # A zero-weight row puts the item in the catalogue without counting as a signal.
            pad = pd.DataFrame(
                {"user_id": frame["user_id"].iloc[0], "event_id": new, "weight": 0.0}
            )
            frame = pd.concat([frame, pad], ignore_index=True)
    user_ids, item_ids, matrix = interaction_matrix(frame)
    matrix.eliminate_zeros()
    popularity = np.asarray(matrix.sum(axis=0)).ravel().astype(np.float32)
    knn = item_knn(matrix, neighbours)
    als_users, als_items = fit_als(matrix, factors=factors, iterations=iterations, seed=seed)
    vectors = _vector_matrix(item_ids, item_vectors or {})
    return EventsModel(
        user_ids=user_ids,
        item_ids=item_ids,
        user_items=matrix,
        popularity=popularity,
        knn=knn,
        als_users=als_users,
        als_items=als_items,
        item_vectors=vectors,
        hybrid_weights=dict(hybrid_weights or HYBRID_WEIGHTS),
        recent_popularity=recent_popularity(frame, item_ids, half_life_days),
        ease=fit_ease(matrix, ease_lambda, max_items=ease_max_items),
        params={"half_life_days": half_life_days, "ease_lambda": ease_lambda},
    )


def recent_popularity(
    interactions: pd.DataFrame, item_ids: np.ndarray, half_life_days: float
) -> np.ndarray:
    """Per item, the sum of interaction weights halved every `half_life_days` of age.

    Age is counted back from the newest interaction: what is popular *now* (new items
    arriving, tastes drifting) rather than over the whole history. Without timestamps this
    is plain popularity.
    """
    index = pd.Index(item_ids)
    codes = index.get_indexer(interactions["event_id"])
    weights = interactions["weight"].to_numpy(np.float64)
    if "occurred_at" in interactions and interactions["occurred_at"].notna().any():
        times = pd.to_datetime(interactions["occurred_at"], utc=True)
        age_days = (times.max() - times).dt.total_seconds().fillna(0).to_numpy() / 86400
        weights = weights * np.exp2(-age_days / max(half_life_days, 1e-6))
    keep = codes >= 0
    out = np.bincount(codes[keep], weights=weights[keep], minlength=len(item_ids))
    return out.astype(np.float32)


def fit_ease(
    matrix: sp.csr_matrix,
    lam: float,
    *,
    max_items: int = EASE_MAX_ITEMS,
    keep: int = EASE_KEEP,
) -> sp.csr_matrix:
    """EASE (Steck, 2019): closed-form item-item weights B = I - P / diag(P), P = (X'X + lam I)^-1.

    X is the binary users x items matrix. The inverse is dense, so only the `max_items` most
    interacted items take part (the rest score 0 from EASE and rely on the other components);
    each column then keeps its `keep` largest weights, so a user's score is one sparse row
    times a sparse matrix, like item-item CF.
    """
    n = matrix.shape[1]
    binary = _binary(matrix.tocsr()).astype(np.float64)
    counts = np.asarray(binary.sum(axis=0)).ravel()
    cols = np.flatnonzero(counts > 0)
    if len(cols) > max_items:
        cols = np.sort(cols[np.argsort(-counts[cols], kind="stable")[:max_items]])
    if len(cols) < 2:
        return sp.csr_matrix((n, n), dtype=np.float32)
    sub = binary[:, cols]
    gram = (sub.T @ sub).toarray()
    gram[np.diag_indices_from(gram)] += lam
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)  # column j divided by P_jj
    np.fill_diagonal(weights, 0.0)
    keep = min(keep, len(cols) - 1)
    top = np.argpartition(-np.abs(weights), keep - 1, axis=0)[:keep]  # keep x len(cols)
    rows = cols[top.ravel()]
    columns = cols[np.tile(np.arange(len(cols)), keep)]
    values = weights[top, np.arange(len(cols))].ravel()
    return sp.csr_matrix((values.astype(np.float32), (rows, columns)), shape=(n, n))


def item_knn(matrix: sp.csr_matrix, neighbours: int) -> sp.csr_matrix:
    """Item-item cosine similarity on log-scaled weights, keeping `neighbours` per item.

    Pruning keeps the matrix (and a user's score, one sparse row times it) small, and drops
    the long tail of one-co-occurrence similarities that are mostly noise.
    """
    logged = matrix.copy()
    logged.data = np.log1p(logged.data)
    items = logged.T.tocsr()
    norms = np.sqrt(np.asarray(items.multiply(items).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    normalised = sp.diags(1.0 / norms) @ items
    sim = (normalised @ normalised.T).tocsr()
    sim.setdiag(0)
    sim.eliminate_zeros()
    rows, cols, vals = [], [], []
    for i in range(sim.shape[0]):
        start, end = sim.indptr[i], sim.indptr[i + 1]
        if start == end:
            continue
        data, idx = sim.data[start:end], sim.indices[start:end]
        keep = np.argsort(-data, kind="stable")[:neighbours]
        rows.append(np.full(len(keep), i))
        cols.append(idx[keep])
        vals.append(data[keep])
    if not rows:
        return sp.csr_matrix(sim.shape, dtype=np.float32)
    pruned = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=sim.shape
    )
    # Scores are user_row @ knn: column j collects similarities *to* j, so transpose.
    return pruned.T.tocsr().astype(np.float32)


def fit_als(
    matrix: sp.csr_matrix, *, factors: int, iterations: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Implicit-feedback ALS (the `implicit` package) on the users x items weights."""
    # One BLAS thread: implicit parallelises itself, and nested pools thrash on shared cores.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=factors,
            regularization=0.05,
            alpha=2.0,
            iterations=iterations,
            random_state=seed,
            num_threads=1,  # deterministic factors for a given seed
            calculate_training_loss=False,
        )
        model.fit(matrix.astype(np.float32), show_progress=False)
    return (
        np.ascontiguousarray(model.user_factors, dtype=np.float32),
        np.ascontiguousarray(model.item_factors, dtype=np.float32),
    )


def _vector_matrix(item_ids: np.ndarray, vectors: dict[str, np.ndarray]) -> np.ndarray:
    if not vectors:
        return np.zeros((len(item_ids), 0), dtype=np.float32)
    dim = len(next(iter(vectors.values())))
    out = np.zeros((len(item_ids), dim), dtype=np.float32)
    for i, item in enumerate(item_ids.tolist()):
        vector = vectors.get(item)
        if vector is not None:
            norm = float(np.linalg.norm(vector))
            out[i] = np.asarray(vector, dtype=np.float32) / (norm or 1.0)
    return out

"""Events offline table: NDCG@10 / precision@10 / recall@10 per algorithm on a global time split.

On the generated data by default (the honest generator: popularity bias, long tail, new events
over time, drifting tastes), or on your own interaction file (`--data`, with `--items` for its
metadata, e.g. MovieLens `u.data` + `u.item`). The newest `--test-share` of interactions is
the test; hyperparameters are tuned on a window cut from the training period only, exactly as
`beacon train events` does. Items are embedded with the packaged encoder for the content model
(`--no-content` skips it). No database and no MLflow: nothing is written.
`python -m bench.bench_events_offline --help` lists the knobs.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import pandas as pd

from services.recommender.data import embedding_text, generate_events_data
from services.recommender.evaluation import metrics_table
from services.recommender.settings import RecommenderSettings
from services.recommender.training import evaluate_offline

#: The issue's targets for the served model (the hybrid) on the generated data.
TARGET_X_POPULARITY, TARGET_X_RECENT = 1.3, 1.05


def _embed(ids: list[str], texts: list[str]) -> dict[str, np.ndarray]:
    from services.embeddings.encoder import get_encoder
    from services.embeddings.settings import EmbeddingSettings

    vectors = get_encoder(EmbeddingSettings()).encode(texts)
    return {i: np.asarray(v, dtype=np.float32) for i, v in zip(ids, vectors, strict=True)}


def _generated(args) -> tuple[pd.DataFrame, dict, dict]:
    data = generate_events_data(args.users, args.events, seed=args.seed)
    starts = {e.event_id: pd.Timestamp(e.starts_at) for e in data.events}
    vectors = {}
    if args.content:
        vectors = _embed([e.event_id for e in data.events], [e.embedding_text for e in data.events])
    return data.interactions, vectors, starts


def _from_files(args) -> tuple[pd.DataFrame, dict, dict]:
    from services.recommender.items import load_items
    from services.recommender.loader import load_interactions

    frame = load_interactions(args.data, args.encoding)
    vectors, starts = {}, {}
    if args.items is not None:
        items, used = load_items(args.items, args.encoding)
        print(f"{args.items.name}: {len(items)} items (decoded as {used})", flush=True)
        starts = {i.item_id: pd.Timestamp(i.starts_at) for i in items if i.starts_at}
        if args.content:
            texts = [embedding_text(i.title, i.tags, i.city, None, i.text) for i in items]
            vectors = _embed([i.item_id for i in items], texts)
    return frame, vectors, starts


def main() -> None:
    """Print the offline table and whether the served model meets the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--test-share", type=float, default=0.2)
    parser.add_argument("--data", type=Path, help="interaction file instead of generated data")
    parser.add_argument("--items", type=Path, help="item metadata file for --data")
    parser.add_argument("--encoding", help="encoding of --data/--items (default: detected)")
    parser.add_argument("--no-content", dest="content", action="store_false")
    args = parser.parse_args()
    started = time.perf_counter()
    frame, vectors, starts = _from_files(args) if args.data else _generated(args)
    source = args.data.name if args.data else f"generated {args.users}x{args.events} s{args.seed}"
    print(
        f"{source}: {len(frame)} interactions, {frame['user_id'].nunique()} users, "
        f"{frame['event_id'].nunique()} items; {len(vectors)} embedded",
        flush=True,
    )
    settings = RecommenderSettings(rec_test_share=args.test_share, events_seed=args.seed)
    result = evaluate_offline(frame, vectors, starts, settings, say=lambda s: print(s, flush=True))
    print()
    print(metrics_table(result.metrics))
    served = settings.rec_default_algorithm
    ndcg = {a: m.ndcg for a, m in result.metrics.items()}
    x_pop = ndcg[served] / ndcg["popularity"] if ndcg["popularity"] else float("inf")
    x_recent = ndcg[served] / ndcg["recent_popularity"] if ndcg["recent_popularity"] else 0.0
    verdict = x_pop >= TARGET_X_POPULARITY and x_recent >= TARGET_X_RECENT
    print(
        f"\nserved ({served}): {x_pop:.2f}x popularity (target {TARGET_X_POPULARITY}), "
        f"{x_recent:.2f}x recent popularity (target {TARGET_X_RECENT}): "
        f"{'met' if verdict else 'NOT met'}; {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()

"""Events benchmark: /v1/recommendations p50/p95/p99 over HTTP, with and without the cache.

Runs against its own embedded PostgreSQL in a temporary folder (or --home to keep it): 10,000
users x 5,000 events by default, generated, embedded and trained first (the embedding of the
events is most of the set-up time). A running A/B experiment (popularity vs hybrid) makes every
request do the assignment and the logging the API does in production.
`python -m bench.bench_recommendations --help` lists the knobs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import httpx
import numpy as np
import uvicorn

from bench.temp_home import temporary_home
from services.core.database import Database
from services.core.logging import configure_logging
from services.embeddings.encoder import get_encoder
from services.mlops.registry import CHAMPION, alias_version
from services.recommender.data import CITIES, generate_events_data
from services.recommender.experiments import Experiment, Variant, create_experiment
from services.recommender.settings import RecommenderSettings
from services.recommender.store import (
    count_events_data,
    embed_events,
    insert_interactions,
    upsert_events,
    upsert_users,
)
from services.recommender.training import train_events
from services.serving.app import create_app
from services.serving.settings import ServingSettings

TARGET_P95_MS = 15.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values."""
    return float(np.percentile(np.asarray(values), q))


def prepare(db: Database, settings: ServingSettings, rec: RecommenderSettings, args) -> dict:
    """Generate, store, embed and train unless the home already holds it all."""
    figures: dict = {}
    with db.connection() as conn:
        counts = count_events_data(conn)
    if counts["interactions"] == 0:
        t0 = time.perf_counter()
        data = generate_events_data(args.users, args.events, seed=rec.events_seed)
        with db.connection() as conn:
            upsert_users(conn, data.users)
            upsert_events(conn, data.events)
            insert_interactions(conn, data.interactions)
        figures["generate_and_store_seconds"] = round(time.perf_counter() - t0, 1)
        print(f"stored {len(data.interactions)} interactions", flush=True)
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done and (done == total or done % 640 == 0):
            print(f"  [events] embedded {done}/{total}", flush=True)

    embedded = embed_events(db, get_encoder(settings), progress=progress)
    figures["embed_seconds"] = round(time.perf_counter() - t0, 1)
    figures["embedded_now"] = embedded
    if args.retrain or alias_version(rec.events_model_name, CHAMPION, rec) is None:
        t0 = time.perf_counter()
        outcome = train_events(rec, db, say=lambda line: print(f"  {line}", flush=True))
        figures["train_seconds"] = round(time.perf_counter() - t0, 1)
        figures["ndcg_at_10"] = {a: round(m.ndcg, 4) for a, m in outcome.metrics.items()}
    with db.connection() as conn:
        figures["data"] = count_events_data(conn)
        conn.execute("UPDATE experiments SET status = 'stopped' WHERE status = 'running'")
        create_experiment(
            conn,
            Experiment(
                f"bench-{int(time.time())}",
                "bench",
                (Variant("control", "popularity", 0.5), Variant("hybrid", "hybrid", 0.5)),
                "purchase",
                "running",
                None,
                None,
            ),
        )
    return figures


def measure(
    db: Database, settings: ServingSettings, rec: RecommenderSettings, bodies: list[dict]
) -> dict:
    """p50/p95/p99 of /v1/recommendations over real HTTP on loopback, one client."""
    port = 8766
    app = create_app(settings, database=db, encoder=get_encoder(settings), recommender=rec)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            # Warm-up: plans, pool, and with the cache on, one entry per distinct request.
            for body in {json.dumps(b, sort_keys=True): b for b in bodies}.values():
                client.post("/v1/recommendations", json=body).raise_for_status()
            timings, cached = [], 0
            for body in bodies:
                t0 = time.perf_counter()
                response = client.post("/v1/recommendations", json=body)
                timings.append((time.perf_counter() - t0) * 1000)
                response.raise_for_status()
                cached += response.json()["cached"]
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    out = {f"p{q}_ms": round(percentile(timings, q), 2) for q in (50, 95, 99)}
    out |= {"requests": len(timings), "cache_hit_share": round(cached / len(timings), 3)}
    return out


def main() -> None:
    """Prepare the data and model, then measure the endpoint with the cache off and on."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000, help="generated users")
    parser.add_argument("--events", type=int, default=5_000, help="generated events")
    parser.add_argument("--requests", type=int, default=2_000, help="measured requests per mode")
    parser.add_argument("--distinct-users", type=int, default=500, help="users the requests cycle")
    parser.add_argument(
        "--retrain", action="store_true", help="train even when --home already has a champion"
    )
    parser.add_argument(
        "--home", type=Path, help="keep the benchmark database here (default: a temporary folder)"
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.home:
            args.home.mkdir(parents=True, exist_ok=True)
            home = args.home
        else:
            home = stack.enter_context(temporary_home("beacon-bench-"))
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        uri = f"sqlite:///{home.resolve() / 'mlflow' / 'mlflow.db'}"
        settings = ServingSettings(
            home=home, mlflow_tracking_uri=uri, log_format="text", log_level="WARNING"
        )
        configure_logging(settings)
        rec = RecommenderSettings(home=home, mlflow_tracking_uri=uri)
        print(f"events: {args.users} users x {args.events} events; home {home}", flush=True)
        figures: dict = {"machine": f"{os.cpu_count()} cores (shared with other work)"}
        with Database.from_settings(settings) as db:
            figures["setup"] = prepare(db, settings, rec, args)
            print(json.dumps(figures["setup"], indent=2), flush=True)
            rng = random.Random(7)
            users = [f"u{rng.randint(1, args.users):06d}" for _ in range(args.distinct_users)]
            bodies = []
            for i in range(args.requests):
                body: dict = {"user_id": users[i % len(users)], "top_k": 10}
                if i % 2:
                    body["city"] = CITIES[i % len(CITIES)]
                bodies.append(body)
            for name, ttl in (("without_cache", 0.0), ("with_cache", 300.0)):
                mode = rec.model_copy(update={"rec_cache_ttl_seconds": ttl})
                figures[name] = measure(db, settings, mode, bodies)
                print(name, json.dumps(figures[name]), flush=True)
        figures["target_p95_ms"] = TARGET_P95_MS
        print("== figures ==")
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

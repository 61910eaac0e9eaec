"""Embeddings benchmark: refresh throughput, incremental refresh, API latency, HNSW recall.

Runs against its own embedded PostgreSQL in a temporary folder (or DATABASE_URL), so it never
touches the demo's data. `python -m bench.bench_embeddings --help` lists the knobs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import httpx
import numpy as np
import uvicorn

from services.core.database import Database
from services.core.logging import configure_logging
from services.embeddings.encoder import get_encoder
from services.embeddings.refresh import refresh_embeddings
from services.jobs.corpus import generate_corpus
from services.jobs.store import upsert_postings, upsert_resumes
from services.serving.app import create_app
from services.serving.settings import ServingSettings

QUERIES = [
    "python backend engineer",
    "registered nurse night shift",
    "machine learning pytorch",
    "react frontend developer",
    "kubernetes site reliability",
    "financial analyst excel",
    "product manager b2b saas",
    "penetration testing security",
    "ux designer figma",
    "data engineer spark airflow",
    "customer support team lead",
    "digital marketing seo",
    "ios swift mobile",
    "sales account executive",
    "hr business partner",
    "qa automation selenium",
]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values."""
    return float(np.percentile(np.asarray(values), q))


def bench_refresh(db: Database, settings: ServingSettings, postings: int, resumes: int) -> dict:
    """Load and fully refresh a corpus, then change 1 % and refresh again."""
    encoder = get_encoder(settings)
    corpus = generate_corpus(n_postings=postings, n_resumes=resumes)
    t0 = time.perf_counter()
    with db.connection() as conn:
        upsert_postings(conn, corpus.postings)
        upsert_resumes(conn, corpus.resumes)
    load_seconds = time.perf_counter() - t0

    def progress(kind: str, done: int, total: int) -> None:
        if done and (done == total or done % (settings.refresh_batch_docs * 8) == 0):
            print(f"  [{kind}] {done}/{total}", flush=True)

    full = refresh_embeddings(db, encoder, settings, progress=progress)
    docs = full.embedded
    full_seconds = full.wall_seconds + load_seconds
    write_path = load_seconds + full.write_seconds

    n_changed = max(1, postings // 100)
    edited = [
        p.model_copy(update={"description": p.description + "\nUpdated: hybrid working."})
        for p in corpus.postings[:n_changed]
    ]
    t0 = time.perf_counter()
    with db.connection() as conn:
        upsert_postings(conn, edited)
    reload_seconds = time.perf_counter() - t0
    incremental = refresh_embeddings(db, encoder, settings)
    incremental_seconds = incremental.wall_seconds + reload_seconds
    return {
        "documents": docs,
        "chunks": full.kinds["postings"].chunks,
        "full_refresh_seconds": round(full_seconds, 2),
        "docs_per_second": round(docs / full_seconds, 1),
        "encode_seconds": round(full.encode_seconds, 2),
        "write_path_seconds (hash+upsert+vector writes)": round(write_path, 2),
        "write_path_share": round(write_path / full_seconds, 4),
        "incremental_changed_docs": incremental.embedded,
        "incremental_seconds": round(incremental_seconds, 2),
        "incremental_share_of_full": round(incremental_seconds / full_seconds, 4),
    }


def bench_recall(db: Database, settings: ServingSettings, n_queries: int = 200) -> dict:
    """HNSW top-10 (as the API queries it) against exact search over all posting vectors."""
    with db.connection() as conn:
        rows = conn.execute("SELECT job_id, embedding FROM job_postings ORDER BY job_id").fetchall()
        resumes = conn.execute(
            "SELECT embedding FROM resumes ORDER BY resume_id LIMIT %s", (n_queries,)
        ).fetchall()
    ids = np.array([r[0] for r in rows])
    matrix = np.stack([r[1].to_numpy() for r in rows])
    recalls = []
    with db.connection() as conn:
        conn.execute(f"SET hnsw.ef_search = {int(settings.hnsw_ef_search)}")
        for (query,) in resumes:
            q = query.to_numpy()
            exact = set(ids[np.argsort(-(matrix @ q))[:10]])
            got = conn.execute(
                "SELECT job_id FROM job_postings ORDER BY embedding <=> %s LIMIT 10", (query,)
            ).fetchall()
            recalls.append(len(exact & {g[0] for g in got}) / 10)
    return {
        "hnsw_recall_at_10": round(statistics.mean(recalls), 4),
        "queries": len(recalls),
        "ef_search": settings.hnsw_ef_search,
    }


def bench_latency(db: Database, settings: ServingSettings, requests: int) -> dict:
    """p50/p95/p99 of /recommend_jobs over real HTTP on loopback, by resume id and free text."""
    port = 8765
    app = create_app(settings, database=db, encoder=get_encoder(settings))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    with db.connection() as conn:
        resume_ids = [r[0] for r in conn.execute("SELECT resume_id FROM resumes ORDER BY 1")]
    results = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            bodies = {
                "by_resume_id": [
                    {"resume_id": resume_ids[i % len(resume_ids)], "top_k": 10}
                    for i in range(requests)
                ],
                "free_text": [
                    {"text": QUERIES[i % len(QUERIES)], "top_k": 10} for i in range(requests)
                ],
            }
            for name, payloads in bodies.items():
                for body in payloads[:20]:  # warm-up: plans, pool, tokenizer caches
                    client.post("/recommend_jobs", json=body)
                timings = []
                for body in payloads:
                    t0 = time.perf_counter()
                    response = client.post("/recommend_jobs", json=body)
                    timings.append((time.perf_counter() - t0) * 1000)
                    response.raise_for_status()
                results[name] = {f"p{q}_ms": round(percentile(timings, q), 2) for q in (50, 95, 99)}
                results[name]["requests"] = len(timings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return results


PARTS = ("refresh", "recall", "latency")


def main() -> None:
    """Run the chosen parts and print one JSON document of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=10_000, help="postings in the corpus")
    parser.add_argument("--resumes", type=int, default=1_000, help="resumes in the corpus")
    parser.add_argument("--requests", type=int, default=500, help="HTTP requests per query type")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated subset of {', '.join(PARTS)}"
    )
    parser.add_argument(
        "--home",
        type=Path,
        help="keep the benchmark database here (default: a temporary folder); lets a later run "
        "measure recall and latency without re-embedding: --parts recall,latency",
    )
    args = parser.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts: {', '.join(unknown)}")

    with contextlib.ExitStack() as stack:
        if args.home:
            args.home.mkdir(parents=True, exist_ok=True)
            home = str(args.home)
        else:
            home = stack.enter_context(tempfile.TemporaryDirectory(prefix="beacon-bench-"))
        settings = ServingSettings(home=Path(home), log_format="text", log_level="WARNING")
        configure_logging(settings)
        print(f"corpus: {args.postings} postings, {args.resumes} resumes; home {home}", flush=True)
        figures: dict[str, dict] = {}
        with Database.from_settings(settings) as db:
            if "refresh" in parts:
                figures["refresh"] = bench_refresh(db, settings, args.postings, args.resumes)
                print(json.dumps(figures["refresh"], indent=2), flush=True)
            with db.connection() as conn:
                embedded = conn.execute("SELECT count(embedding) FROM job_postings").fetchone()[0]
            if embedded == 0:
                parser.error("no embedded postings: run with --parts refresh first (same --home)")
            figures["corpus"] = {"embedded_postings": embedded}
            if "recall" in parts:
                figures["recall"] = bench_recall(db, settings)
                print(json.dumps(figures["recall"], indent=2), flush=True)
            if "latency" in parts:
                figures["recommend_jobs_latency"] = bench_latency(db, settings, args.requests)
        print("== figures ==")
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

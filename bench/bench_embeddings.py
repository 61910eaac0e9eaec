"""Embeddings benchmark: torch and ONNX side by side in one run, then API latency and recall.

Per backend: the bare encode rate on the corpus's own chunks, a full refresh (docs/s, chunks/s,
share of its time in the model, rate as a share of the bare one) and query latency (short text
and a 4,000-character resume). Then, with the default backend: an incremental refresh,
/v1/recommend_jobs p50/p95 over HTTP (short text, 4,000 characters, and short text while three
clients send maximum-length /v1/job_qa questions) and HNSW recall@10. Every figure also comes with
the process CPU seconds it used, which stay meaningful on a machine loaded by others.
Runs against its own embedded PostgreSQL in a temporary folder (or DATABASE_URL), so it never
touches the demo's data. `python -m bench.bench_embeddings --help` lists the knobs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
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
from services.embeddings.chunking import chunk_text
from services.embeddings.encoder import EncodeTimings, TransformerEncoder
from services.embeddings.refresh import refresh_embeddings
from services.jobs import embedding as _jobs_documents  # noqa: F401  (registers the kinds)
from services.jobs.documents import posting_text, resume_text
from services.jobs.search import encode_document
from services.jobs.store import upsert_postings, upsert_resumes
from services.jobs.synthetic import generate_corpus
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
BACKENDS = {
    "torch": {"embedding_backend": "torch"},
    "onnx-fp32": {"embedding_backend": "onnx", "embedding_quantization": "none"},
    "onnx-int8": {"embedding_backend": "onnx", "embedding_quantization": "int8"},
}


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values."""
    return float(np.percentile(np.asarray(values), q))


def long_texts(corpus, n: int, chars: int = 4000) -> list[str]:
    """Resume-like texts of `chars` characters, each different (no cache can help)."""
    texts = []
    for i in range(n):
        parts = [resume_text(corpus.resumes[(i + k) % len(corpus.resumes)]) for k in range(8)]
        parts += [posting_text(corpus.postings[(i + k) % len(corpus.postings)]) for k in range(4)]
        texts.append(f"{i} " + "\n".join(parts)[: chars - len(str(i)) - 1])
    return texts


class Clock:
    """Wall and process CPU seconds of a block."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def bench_backend(
    name: str, settings: ServingSettings, db: Database, corpus, n_queries: int
) -> tuple[dict, TransformerEncoder]:
    """Bare encode rate, full refresh and query latency of one backend."""
    backend = settings.model_copy(update={**BACKENDS[name], "embedding_cache_size": 0})
    with Clock() as load:
        encoder = TransformerEncoder(backend)
    encoder.encode(QUERIES)  # warm-up
    chunks = [
        c
        for p in corpus.postings[: max(200, len(corpus.postings) // 4)]
        for c in chunk_text(posting_text(p), backend.chunk_words, backend.chunk_overlap_words)
    ]
    timings = EncodeTimings()
    with Clock() as bare:
        encoder.encode(chunks, timings=timings)
    bare_rate = len(chunks) / bare.wall

    full = refresh_embeddings(db, encoder, backend)
    texts = full.encoded_texts
    refresh_rate = texts / full.wall_seconds

    short, long_ = [], []
    for i in range(n_queries):
        with Clock() as c:
            encoder.encode([f"{QUERIES[i % len(QUERIES)]} {i}"])
        short.append(c.wall * 1000)
    for text in long_texts(corpus, max(10, n_queries // 10)):
        with Clock() as c:
            encode_document(encoder, text, backend.chunk_words, backend.chunk_overlap_words)
        long_.append(c.wall * 1000)
    model_share = full.encoder.model_seconds / max(full.wall_seconds, 1e-9)
    return {
        "identity": encoder.identity,
        "load_seconds": round(load.wall, 2),
        "bare_encode_chunks_per_s": round(bare_rate, 1),
        "bare_encode_cpu_ms_per_chunk": round(1000 * bare.cpu / len(chunks), 1),
        "refresh_docs_per_s": round(full.embedded / full.wall_seconds, 1),
        "refresh_texts_per_s": round(refresh_rate, 1),
        "refresh_rate_share_of_bare": round(refresh_rate / bare_rate, 3),
        "refresh_wall_seconds": round(full.wall_seconds, 1),
        "refresh_model_share": round(model_share, 3),
        "refresh_time_shares": full.time_shares(),
        "query_short_p50_ms": round(percentile(short, 50), 2),
        "query_short_p95_ms": round(percentile(short, 95), 2),
        "query_4000_chars_p50_ms": round(percentile(long_, 50), 1),
        "query_4000_chars_p95_ms": round(percentile(long_, 95), 1),
    }, encoder


def side_by_side(results: dict[str, dict]) -> str:
    """A plain-text table: one row per figure, one column per backend, plus int8/torch."""
    names = list(results)
    rows = [k for k in results[names[0]] if isinstance(results[names[0]][k], int | float)]
    header = f"{'figure':34}" + "".join(f"{n:>12}" for n in names) + f"{'int8/torch':>12}"
    lines = [header, "-" * len(header)]
    for row in rows:
        values = [results[n][row] for n in names]
        ratio = ""
        if "torch" in results and "onnx-int8" in results and results["torch"][row]:
            ratio = f"{results['onnx-int8'][row] / results['torch'][row]:.2f}x"
        lines.append(f"{row:34}" + "".join(f"{v:>12}" for v in values) + f"{ratio:>12}")
    return "\n".join(lines)


def bench_incremental(db: Database, settings: ServingSettings, encoder, corpus) -> dict:
    """Change 1 % of the postings and refresh: only those are embedded."""
    n_changed = max(1, len(corpus.postings) // 100)
    edited = [
        p.model_copy(update={"description": p.description + "\nUpdated: hybrid working."})
        for p in corpus.postings[:n_changed]
    ]
    with Clock() as c:
        with db.connection() as conn:
            upsert_postings(conn, edited)
        stats = refresh_embeddings(db, encoder, settings)
    return {"changed_docs": stats.embedded, "seconds": round(c.wall, 2)}


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
            exact = set(ids[np.argsort(-(matrix @ query.to_numpy()))[:10]])
            got = conn.execute(
                "SELECT job_id FROM job_postings ORDER BY embedding <=> %s LIMIT 10", (query,)
            ).fetchall()
            recalls.append(len(exact & {g[0] for g in got}) / 10)
    return {"hnsw_recall_at_10": round(statistics.mean(recalls), 4), "queries": len(recalls)}


def _timed_posts(client: httpx.Client, path: str, bodies: list[dict]) -> list[float]:
    timings = []
    for body in bodies:
        t0 = time.perf_counter()
        response = client.post(path, json=body)
        timings.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
    return timings


def _p(timings: list[float]) -> dict:
    return {
        "p50_ms": round(percentile(timings, 50), 1),
        "p95_ms": round(percentile(timings, 95), 1),
        "requests": len(timings),
    }


def bench_api(db: Database, settings: ServingSettings, corpus, requests: int) -> dict:
    """/v1/recommend_jobs over real HTTP: short text, 4,000 characters, and short text while three
    clients send maximum-length /v1/job_qa questions (no cache anywhere: every text is new)."""
    encoder = TransformerEncoder(settings.model_copy(update={"embedding_cache_size": 0}))
    app = create_app(settings, database=db, encoder=encoder)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    results = {}
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            short = [{"text": f"{QUERIES[i % len(QUERIES)]} {i}"} for i in range(requests)]
            _timed_posts(client, "/v1/recommend_jobs", short[:20])  # warm-up
            results["short_text"] = _p(_timed_posts(client, "/v1/recommend_jobs", short))
            longs = [{"text": t} for t in long_texts(corpus, max(20, requests // 5))]
            results["text_4000_chars"] = _p(_timed_posts(client, "/v1/recommend_jobs", longs))
            results["short_text_during_3_long_job_qa"] = _under_qa_load(base, client, requests)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return results


def _under_qa_load(base: str, client: httpx.Client, requests: int) -> dict:
    stop = threading.Event()
    answered: list[int] = []
    words = " ".join(QUERIES).split()

    def long_questions(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=base, timeout=60) as qa:
            while not stop.is_set():
                question = " ".join(rng.choice(words) for _ in range(200))[:999] + "?"
                answered.append(qa.post("/v1/job_qa", json={"question": question}).status_code)

    threads = [threading.Thread(target=long_questions, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    time.sleep(2)
    try:
        bodies = [{"text": f"{QUERIES[i % len(QUERIES)]} under load {i}"} for i in range(requests)]
        out = _p(_timed_posts(client, "/v1/recommend_jobs", bodies[: max(50, requests // 4)]))
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    out["job_qa_statuses"] = {str(s): answered.count(s) for s in sorted(set(answered))}
    return out


def main() -> None:
    """Run the benchmark and print the side-by-side table and one JSON document of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=1_000, help="postings in the corpus")
    parser.add_argument("--resumes", type=int, default=200, help="resumes in the corpus")
    parser.add_argument("--requests", type=int, default=200, help="HTTP requests per query type")
    parser.add_argument("--queries", type=int, default=100, help="encoder-only query samples")
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help=f"subset of {', '.join(BACKENDS)}"
    )
    parser.add_argument("--skip-api", action="store_true", help="only the encoder figures")
    parser.add_argument("--home", type=Path, help="keep the benchmark database here")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backends: {', '.join(unknown)}")

    with contextlib.ExitStack() as stack:
        if args.home:
            args.home.mkdir(parents=True, exist_ok=True)
            home = str(args.home)
        else:
            home = str(stack.enter_context(temporary_home("beacon-bench-")))
        settings = ServingSettings(
            home=Path(home), log_format="text", log_level="WARNING", prediction_log=False
        )
        configure_logging(settings)
        cores = settings.encode_threads
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(
            f"corpus: {args.postings} postings, {args.resumes} resumes; {cores} threads; "
            f"load average {load:.1f} at start; home {home}",
            flush=True,
        )
        corpus = generate_corpus(n_postings=args.postings, n_resumes=args.resumes)
        figures: dict[str, dict] = {}
        with Database.from_settings(settings) as db:
            with db.connection() as conn:
                upsert_postings(conn, corpus.postings)
                upsert_resumes(conn, corpus.resumes)
            per_backend = {}
            encoder = None
            # Each backend's identity differs, so each refresh below re-embeds everything.
            for name in backends:
                print(f"== {name}", flush=True)
                per_backend[name], encoder = bench_backend(name, settings, db, corpus, args.queries)
                print(json.dumps(per_backend[name], indent=2), flush=True)
            figures["backends"] = per_backend
            print("== side by side\n" + side_by_side(per_backend), flush=True)
            default = settings.model_copy(update={"embedding_cache_size": 0})
            if backends[-1] != "onnx-int8":  # leave the stored vectors in the default's space
                encoder = TransformerEncoder(default)
                refresh_embeddings(db, encoder, default)
            figures["incremental_refresh"] = bench_incremental(db, default, encoder, corpus)
            figures["recall"] = bench_recall(db, settings)
            if not args.skip_api:
                figures["recommend_jobs"] = bench_api(db, settings, corpus, args.requests)
        figures["load_average_at_end"] = {"1min": round(os.getloadavg()[0], 1)}
        print("== figures")
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

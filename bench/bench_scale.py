"""Capacity bench: sharded refresh speed-up, HNSW build/size/recall for vector vs halfvec.

(a) `beacon embed refresh --shard I/N` as N concurrent processes (N = 1, 2, 4) on one corpus,
    each shard with cores/N encoder threads: documents per second end to end (process start
    and model load included) and over the refresh phase only (the slowest shard's
    `wall_seconds`), and the speed-up over one process.
(b) Generated 384-d unit vectors (a clustered mixture in a 64-d subspace plus noise, roughly
    the structure of sentence embeddings; not real embeddings) at each --sizes: HNSW build
    time (ef_construction=64 and m=16, the migrations' settings, or each of --hnsw-m) and index
    size with `vector` and `halfvec` storage, and recall@10 against exact cosine search at
    ef_search 40 and 100.
(d) With --hpo: `beacon train readmission --stop-after train --workers W` for W = 1, 2 on
    one family, then 1 worker replaying the 2-worker search's trials; trials per minute over
    each search (first trial start to last trial end, from the Optuna study).
Prints a table and one JSON document. Runs on its own embedded PostgreSQL in a temporary
folder. (c) API throughput per uvicorn worker is measured by `make bench-predict` and
`make bench-mixed`; this bench does not repeat it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import psycopg
from pgvector import HalfVector

from bench.temp_home import temporary_home
from services.core.database import Database
from services.core.machine import usable_cores
from services.core.settings import CoreSettings
from services.jobs.store import upsert_postings, upsert_resumes
from services.jobs.synthetic import generate_corpus

DIM = 384


def bench_shards(db: Database, home: Path, counts: list[int]) -> list[dict]:
    """Refresh the whole corpus with each shard count; every run starts from stale vectors."""
    rows = []
    with db.connection() as conn:
        docs = conn.execute(
            "SELECT (SELECT count(*) FROM job_postings) + (SELECT count(*) FROM resumes)"
        ).fetchone()[0]
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    base_env |= {"DATABASE_URL": db.url, "BEACON_HOME": str(home), "BEACON_LOG_LEVEL": "WARNING"}
    # Load the model once outside the timings (export to the cache on a first install).
    subprocess.run([sys.executable, "-m", "services.cli", "embed", "prepare"], env=base_env,
                   check=True, capture_output=True)  # fmt: skip
    for count in counts:
        with db.connection() as conn:  # a different model id makes every vector stale
            conn.execute("UPDATE job_postings SET embedding_model = NULL")
            conn.execute("UPDATE resumes SET embedding_model = NULL")
        env = base_env | {"BEACON_EMBEDDING_THREADS": str(max(1, usable_cores() // count))}
        started = time.perf_counter()
        command = [sys.executable, "-m", "services.cli", "embed", "refresh", "--shard"]
        procs = [
            subprocess.Popen(
                [*command, f"{index}/{count}"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for index in range(count)
        ]
        outputs = [p.communicate()[0] for p in procs]
        wall = time.perf_counter() - started
        if any(p.returncode for p in procs):
            raise SystemExit(f"a shard failed with {[p.returncode for p in procs]}")
        stats = [json.loads(out[out.index("{") :]) for out in outputs]
        embedded = sum(s["embedded"] for s in stats)
        phase = max(s["wall_seconds"] for s in stats)
        rows.append(
            {
                "shards": count,
                "documents": docs,
                "embedded": embedded,
                "wall_seconds": round(wall, 1),
                "docs_per_s": round(embedded / wall, 2),
                "refresh_phase_seconds": round(phase, 1),
                "refresh_phase_docs_per_s": round(embedded / phase, 2),
                "load_average": round(os.getloadavg()[0], 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    for row in rows:
        row["speedup"] = round(row["docs_per_s"] / rows[0]["docs_per_s"], 2)
        row["phase_speedup"] = round(
            row["refresh_phase_docs_per_s"] / rows[0]["refresh_phase_docs_per_s"], 2
        )
    return rows


def bench_hpo(db: Database, home: Path, trials: int, family: str, encounters: int) -> list[dict]:
    """Trials per minute of the shared search: 1 worker, 2 workers, and 1 worker on their trials.

    Each worker samples with its own seed, so a 1-worker and a 2-worker search run different
    trials, of different cost. The third run replays the 2-worker search's trials (same
    parameters, enqueued in a fresh study) on one worker: the same work, so its trials/min is
    the one the 2-worker figure is compared with (`speedup_same_trials`).
    """
    import optuna

    from services.training.hpo import optuna_storage, study_name

    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEACON_", "MLFLOW_"))}
    env |= {"DATABASE_URL": db.url, "BEACON_HOME": str(home), "BEACON_LOG_LEVEL": "WARNING",
            "BEACON_READMISSION_ROWS": str(encounters), "BEACON_TRAIN_THREADS": "1"}  # fmt: skip
    storage = optuna_storage(db.url)
    rows: list[dict] = []
    params: list[dict] = []
    for workers, replay in ((1, False), (2, False), (1, True)):
        run_id = f"bench-scale-{workers}{'-replay' if replay else ''}-{int(time.time())}"
        name = study_name("readmission", run_id, family)
        if replay:
            optuna.logging.set_verbosity(optuna.logging.WARNING)
            study = optuna.create_study(study_name=name, storage=storage, direction="maximize")
            for p in params:
                study.enqueue_trial(p)
        subprocess.run(
            [sys.executable, "-m", "services.cli", "train", "readmission", "--stop-after",
             "train", "--trials", str(trials), "--families", family, "--run-id", run_id,
             "--workers", str(workers)],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        study = optuna.load_study(study_name=name, storage=storage)
        done = [t for t in study.trials if t.state.name == "COMPLETE"]
        if workers == 2:
            params = [t.params for t in sorted(done, key=lambda t: t.number)]
        span = max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)
        # A trial's own fit-and-score time: the two runs sample different trials (each worker
        # has its own seed), so trials/min alone mixes speed with what was sampled.
        fit_seconds = sum(float(t.user_attrs.get("seconds", 0.0)) for t in done)
        rows.append(
            {
                "workers": workers,
                "trials_of": "the 2-worker search" if replay else "its own search",
                "trials": len(done),
                "search_seconds": round(span.total_seconds(), 1),
                "trials_per_min": round(60 * len(done) / span.total_seconds(), 1),
                "mean_trial_seconds": round(fit_seconds / len(done), 2),
                "busy_share": round(fit_seconds / (workers * span.total_seconds()), 2),
                "trial_seconds_per_s": round(fit_seconds / span.total_seconds(), 2),
                "load_average": round(os.getloadavg()[0], 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    for row in rows:
        row["speedup"] = round(row["trials_per_min"] / rows[0]["trials_per_min"], 2)
        # Trial work done per second: the speed-up of the machinery, whatever was sampled.
        row["work_speedup"] = round(row["trial_seconds_per_s"] / rows[0]["trial_seconds_per_s"], 2)
    # The same trials on one worker and on two: the trials/min speed-up with the work held equal.
    rows[1]["speedup_same_trials"] = round(rows[1]["trials_per_min"] / rows[2]["trials_per_min"], 2)
    return rows


def generated_vectors(n: int, seed: int) -> np.ndarray:
    """Unit vectors clustered in a 64-d subspace of R^384, plus isotropic noise."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(64, DIM)).astype(np.float32)
    centers = rng.normal(size=(max(50, n // 200), 64)).astype(np.float32)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 50_000):
        m = min(50_000, n - start)
        latent = centers[rng.integers(0, len(centers), m)] + 0.6 * rng.normal(size=(m, 64))
        block = latent.astype(np.float32) @ basis + 0.5 * rng.normal(size=(m, DIM))
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def _exact_top10(probe: np.ndarray, base: np.ndarray) -> list[set[int]]:
    """Ids of the 10 nearest rows of `base` per probe, by exact cosine (unit vectors)."""
    out = []
    for start in range(0, len(probe), 25):  # 25 x 1 M scores at a time, not 100 x 1 M
        scores = probe[start : start + 25] @ base.T
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        out.extend(set(row.tolist()) for row in top)
    return out


def _build_memory_mb(size: int, kind: str) -> int:
    """maintenance_work_mem that holds the whole graph, so the build never spills.

    Measured index sizes: about 2.0 kB per row for `vector`, 1.15 kB for `halfvec` (m = 16);
    the in-memory graph needs about that plus a margin, and never less than 1 GB.
    """
    per_row_kb = 2.0 if kind == "vector" else 1.15
    return max(1024, int(size * per_row_kb * 1.5 / 1024))


def bench_hnsw(url: str, size: int, queries: int, seed: int, m: int = 16) -> dict:
    """Build time, index size and recall@10 of `vector` and `halfvec` HNSW at `size` rows."""
    data = generated_vectors(size + queries, seed)
    base, probe = data[:size], data[size:]
    exact = _exact_top10(probe, base)
    out: dict = {"rows": size, "m": m}
    for kind, ops in (("vector", "vector_cosine_ops"), ("halfvec", "halfvec_cosine_ops")):
        table = f"bench_{kind}_{size}"
        with psycopg.connect(url, autocommit=True) as conn:
            from pgvector.psycopg import register_vector

            register_vector(conn)
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, v {kind}({DIM}))")
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY {table} (id, v) FROM STDIN WITH (FORMAT BINARY)") as copy,
            ):
                copy.set_types(["int4", kind])
                wrap = HalfVector if kind == "halfvec" else (lambda v: v)
                for i, vec in enumerate(base):
                    copy.write_row((i, wrap(vec)))
            conn.execute(f"SET maintenance_work_mem = '{_build_memory_mb(size, kind)}MB'")
            conn.execute("VACUUM ANALYZE " + table)
            t0 = time.perf_counter()
            conn.execute(
                f"CREATE INDEX {table}_hnsw ON {table} USING hnsw (v {ops})"
                f" WITH (m = {m}, ef_construction = 64)"
            )
            build = time.perf_counter() - t0
            index_bytes = conn.execute(f"SELECT pg_relation_size('{table}_hnsw')").fetchone()[0]
            table_bytes = conn.execute(f"SELECT pg_table_size('{table}')").fetchone()[0]
            recall = {}
            for ef in (40, 100):
                conn.execute(f"SET hnsw.ef_search = {ef}")
                hits = 0
                for q, truth in zip(probe, exact, strict=True):
                    found = conn.execute(
                        f"SELECT id FROM {table} ORDER BY v <=> %s::{kind} LIMIT 10", (q,)
                    ).fetchall()
                    hits += len({r[0] for r in found} & truth)
                recall[f"ef{ef}"] = round(hits / (10 * len(probe)), 4)
            conn.execute(f"DROP TABLE {table}")
        out[kind] = {
            "build_seconds": round(build, 1),
            "index_mb": round(index_bytes / 2**20, 1),
            "table_mb": round(table_bytes / 2**20, 1),
            "recall_at_10": recall,
        }
        print(json.dumps({"rows": size, "m": m, kind: out[kind]}), flush=True)
    out["halfvec_index_share"] = round(out["halfvec"]["index_mb"] / out["vector"]["index_mb"], 3)
    return out


def table(shards: list[dict], hnsw: list[dict]) -> str:
    """The figures as two plain-text tables."""
    lines = ["shards  docs  wall s  docs/s  speed-up  refresh-phase docs/s  speed-up  load"]
    for r in shards:
        lines.append(
            f"{r['shards']:>6}  {r['embedded']:>4}  {r['wall_seconds']:>6}  {r['docs_per_s']:>6}"
            f"  {r['speedup']:>7}x  {r['refresh_phase_docs_per_s']:>20}  "
            f"{r['phase_speedup']:>7}x  {r['load_average']:>4}"
        )
    lines.append("")
    lines.append("rows     m   storage  build s  index MB  table MB  recall@10 ef40  ef100")
    for h in hnsw:
        for kind in ("vector", "halfvec"):
            k = h[kind]
            lines.append(
                f"{h['rows']:>7}  {h['m']:>2}  {kind:<7}  {k['build_seconds']:>7}  "
                f"{k['index_mb']:>8}  "
                f"{k['table_mb']:>8}  {k['recall_at_10']['ef40']:>14}  "
                f"{k['recall_at_10']['ef100']:>5}"
            )
        lines.append(f"{'':>11}  halfvec index = {h['halfvec_index_share']:.1%} of vector")
    return "\n".join(lines)


def main() -> None:
    """Run the bench; print the tables and one JSON document of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=240, help="postings in the corpus")
    parser.add_argument("--resumes", type=int, default=40, help="resumes in the corpus")
    parser.add_argument("--shards", default="1,2,4", help="shard counts to time")
    parser.add_argument("--sizes", default="100000", help="vector counts for the HNSW part")
    parser.add_argument("--queries", type=int, default=200, help="recall queries per size")
    parser.add_argument(
        "--hnsw-m",
        default="16",
        help="HNSW m values to build with (comma-separated; 16 is the migrations' setting)",
    )
    parser.add_argument("--skip-refresh", action="store_true")
    parser.add_argument("--skip-hnsw", action="store_true")
    parser.add_argument("--hpo", action="store_true", help="also time HPO with 1 and 2 workers")
    parser.add_argument("--hpo-trials", type=int, default=16)
    parser.add_argument("--hpo-family", default="hist_gb")
    parser.add_argument(
        "--hpo-rows",
        type=int,
        default=8000,
        help="generated encounters (100000 is the training default: trials of seconds)",
    )
    args = parser.parse_args()
    counts = [int(c) for c in args.shards.split(",") if c.strip()]
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    hnsw_ms = [int(m) for m in args.hnsw_m.split(",") if m.strip()]
    figures: dict = {"cores": usable_cores(), "load_average_at_start": round(os.getloadavg()[0], 1)}
    print(f"{figures['cores']} cores, load average {figures['load_average_at_start']}", flush=True)
    with contextlib.ExitStack() as stack:
        home = stack.enter_context(temporary_home("beacon-scale-"))
        settings = CoreSettings(home=home, log_level="WARNING")
        with Database.from_settings(settings) as db:
            shards: list[dict] = []
            if not args.skip_refresh:
                corpus = generate_corpus(n_postings=args.postings, n_resumes=args.resumes)
                with db.connection() as conn:
                    upsert_postings(conn, corpus.postings)
                    upsert_resumes(conn, corpus.resumes)
                shards = bench_shards(db, home, counts)
            hnsw = (
                []
                if args.skip_hnsw
                else [bench_hnsw(db.url, n, args.queries, 7, m) for n in sizes for m in hnsw_ms]
            )
            hpo = (
                bench_hpo(db, home, args.hpo_trials, args.hpo_family, args.hpo_rows)
                if args.hpo
                else []
            )
    figures |= {"refresh": shards, "hnsw": hnsw, "hpo": hpo}
    figures["load_average_at_end"] = round(os.getloadavg()[0], 1)
    print("== bench-scale\n" + table(shards, hnsw))
    for row in hpo:
        print(f"HPO {row['workers']} worker(s), {row['trials_of']}: {row['trials']} trials, "
              f"{row['trials_per_min']} trials/min, {row['speedup']}x, "
              f"load {row['load_average']}")  # fmt: skip
    if hpo:
        print(f"HPO 2 workers vs 1 on the same trials: {hpo[1]['speedup_same_trials']}x")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

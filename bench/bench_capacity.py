"""Per-worker API capacity: `beacon serve --workers W` under a closed-loop mixed load.

The figure sizes ECS: infra/config.py derives each environment's scaling target
(`requests_per_target`, requests per task per minute) from the requests/s one uvicorn worker
sustains here (`MEASURED_WORKER_RPS`). Method (also in docs/capacity.md):

1. prepare one home: the demo corpus (embedded PostgreSQL + pgvector, ONNX encoder), events
   and a readmission champion (bench/bench_mixed_load.py's `prepare`);
2. start `beacon serve --workers W` for each W in --workers (default 1 and 2);
3. warm up, then drive it for --seconds with --clients concurrent keep-alive clients that cycle
   through by-id /recommend_jobs, single-record /predict/readmission and /v1/recommendations
   (one third each), counting only 200s;
4. print requests/s, p95 per route and requests/s per worker.

The client runs on the same machine and takes CPU from the server, so the figure is a floor
for a worker with a whole vCPU to itself. `python -m bench.bench_capacity --help` lists knobs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench.bench_mixed_load import HERE, prepare, run_tree


def measure(home: Path, workers: int, args: argparse.Namespace) -> dict:
    """Start `beacon serve --workers <workers>`, warm it up, measure, stop it."""
    figures = run_tree(f"serve x{workers}", HERE, home, args, ("--workers", str(workers)))
    figures["workers"] = workers
    figures["requests_per_s_per_worker"] = round(figures["requests_per_s"] / workers, 1)
    return figures


def main() -> None:
    """Prepare a home once, then measure each worker count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="Keep (and reuse) the prepared home here.")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--postings", type=int, default=500)
    parser.add_argument("--resumes", type=int, default=200)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="beacon-bench-capacity-"))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / ".prepared").exists():
        print(f"preparing {home}", flush=True)
        prepare(home, args)
        (home / ".prepared").touch()
    results = []
    for workers in args.workers:
        figures = measure(home, workers, args)
        print(json.dumps(figures), flush=True)
        results.append(figures)
    best = max(r["requests_per_s_per_worker"] for r in results)
    print(
        json.dumps(
            {
                "load": {"clients": args.clients, "seconds": args.seconds},
                "requests_per_s": {r["workers"]: r["requests_per_s"] for r in results},
                "per_worker_best": best,
                "errors": sum(sum(r["errors"].values()) for r in results),
            }
        )
    )


if __name__ == "__main__":
    main()

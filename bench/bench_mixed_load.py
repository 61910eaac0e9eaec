"""Mixed-load benchmark: 8 clients on by-id /v1/recommend_jobs, single /v1/predict/readmission and
/v1/recommendations, against this tree and an older commit, side by side in one run.

Both API servers are `beacon serve` processes (one after the other, alternating, on the same
prepared home: embedded PostgreSQL with the demo corpus and events, a readmission champion and
an events champion), measured by the same asyncio client. Give the old tree with
`--baseline PATH` (e.g. `git worktree add /tmp/old a10c00b`); without it only this tree runs.
`python -m bench.bench_mixed_load --help` lists the knobs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import httpx
import numpy as np

from bench.bench_predict import Server, free_port, train_champion

HERE = Path(__file__).resolve().parents[1]
TARGET_FACTOR = 1.5
ISSUE_BASELINE_RPS = 203.0


def _env(tree: Path, home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEACON_", "MLFLOW_"))}
    return {
        **env,
        "PYTHONPATH": str(tree),
        "BEACON_HOME": str(home),
        "BEACON_LOG_LEVEL": "WARNING",
        "HF_HUB_OFFLINE": "1",
        **(extra or {}),
    }


def prepare(home: Path, args: argparse.Namespace) -> None:
    """Demo corpus and events (embedded, trained) and a readmission champion in `home`."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "services.cli",
            "demo",
            "--no-serve",
            "--postings",
            str(args.postings),
            "--resumes",
            str(args.resumes),
        ],
        env=_env(
            HERE,
            home,
            {"BEACON_EVENTS_USERS": str(args.users), "BEACON_EVENTS_COUNT": str(args.events)},
        ),
        cwd=home,
        check=True,
    )
    os.environ["BEACON_HOME"] = str(home)
    train_champion(home, rows=5000, trials=2, families="logreg")
    os.environ.pop("BEACON_HOME")


def _bodies(home: Path, count: int, seed: int = 7) -> list[tuple[str, dict]]:
    from services.training.readmission_schema import FEATURE_COLUMNS
    from services.training.readmission_synthetic import generate_readmission

    rng = random.Random(seed)
    frame = generate_readmission(200, seed=seed)[FEATURE_COLUMNS]
    records = json.loads(frame.to_json(orient="records"))
    out: list[tuple[str, dict]] = []
    for i in range(count):
        kind = i % 3
        if kind == 0:
            out.append(("/v1/recommend_jobs", {"resume_id": f"res-{rng.randint(1, 200):06d}"}))
        elif kind == 1:
            out.append(("/v1/predict/readmission", {"records": [rng.choice(records)]}))
        else:
            out.append(("/v1/recommendations", {"user_id": f"u{rng.randint(1, 2000):06d}"}))
    return out


async def _load(base_url: str, bodies: list[tuple[str, dict]], clients: int, seconds: float):
    done = 0
    errors: dict[str, int] = {}
    timings: dict[str, list[float]] = {}
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client_loop(client: httpx.AsyncClient, offset: int) -> None:
        nonlocal done
        i = offset
        while time.perf_counter() < stop_at:
            path, body = bodies[i % len(bodies)]
            i += clients
            started = time.perf_counter()
            try:
                response = await client.post(path, json=body)
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            if status == "200":
                done += 1
                timings.setdefault(path, []).append((time.perf_counter() - started) * 1000)
            else:
                errors[f"{path} {status}"] = errors.get(f"{path} {status}", 0) + 1

    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client, k) for k in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "requests_per_s": round(done / elapsed, 1),
        "errors": errors,
        "p95_ms": {p: round(float(np.percentile(t, 95)), 1) for p, t in timings.items()},
    }


def run_tree(
    name: str,
    tree: Path,
    home: Path,
    args: argparse.Namespace,
    serve_args: tuple[str, ...] = (),
) -> dict:
    """Start `beacon serve [serve_args]` from `tree`, warm it up, measure, stop it."""
    port = free_port()
    server = Server(
        name,
        [sys.executable, "-m", "services.cli", "serve", "--port", str(port), *serve_args],
        _env(tree, home, {"BEACON_ADMIN_API_KEY": "bench"}),
        port,
    )
    try:
        server.wait_ready("/ready", lambda r: r.status_code == 200, timeout=300)
        bodies = _bodies(home, 3000)
        asyncio.run(_load(server.base_url, bodies, args.clients, args.warmup))
        return asyncio.run(_load(server.base_url, bodies, args.clients, args.seconds))
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", type=Path, help="Checkout of the commit to compare with.")
    parser.add_argument("--home", type=Path, help="Keep the prepared home here (reused).")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2, help="Alternating rounds per tree.")
    parser.add_argument("--postings", type=int, default=500)
    parser.add_argument("--resumes", type=int, default=200)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="beacon-bench-mixed-"))
    home.mkdir(parents=True, exist_ok=True)
    print(f"preparing {home}", flush=True)
    prepare(home, args)
    trees = [("this tree", HERE)] + ([("baseline", args.baseline)] if args.baseline else [])
    results: dict[str, list[dict]] = {name: [] for name, _ in trees}
    for round_no in range(args.rounds):
        for name, tree in trees if round_no % 2 == 0 else list(reversed(trees)):
            figures = run_tree(name, tree, home, args)
            results[name].append(figures)
            print(f"round {round_no + 1} {name}: {json.dumps(figures)}", flush=True)
    summary = {
        name: {
            "requests_per_s": max(r["requests_per_s"] for r in runs),
            "errors": sum(sum(r["errors"].values()) for r in runs),
        }
        for name, runs in results.items()
    }
    if args.baseline:
        ratio = summary["this tree"]["requests_per_s"] / summary["baseline"]["requests_per_s"]
        summary["ratio"] = round(ratio, 2)
        summary["target"] = f">= {TARGET_FACTOR}x the baseline, 0 errors"
    print(json.dumps({"load": {"clients": args.clients, "seconds": args.seconds}, **summary}))


if __name__ == "__main__":
    main()

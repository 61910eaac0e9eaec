"""Readmission serving benchmark: Beacon's /v1/predict/readmission against `mlflow models serve`.

Both servers serve the same registered version (`models:/readmission@champion`) in the same run,
each as its own process with one worker on loopback; the same client measures both. Works
standalone: it uses its own temporary Beacon home (embedded PostgreSQL, local MLflow store) and
trains a quick champion there first. `python -m bench.bench_predict --help` lists the knobs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import httpx
import numpy as np

from bench.temp_home import temporary_home
from services.training.readmission_schema import FEATURE_COLUMNS

MODEL = "readmission"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values."""
    return float(np.percentile(np.asarray(values), q))


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def train_champion(home: Path, rows: int, trials: int, families: str) -> dict[str, Any]:
    """Train and promote a quick readmission champion in `home` with the real training job."""
    from services.core.database import resolve_database_url
    from services.mlops.registry import CHAMPION, alias_version
    from services.training.families import parse_families
    from services.training.readmission_synthetic import generate_readmission
    from services.training.settings import TrainingSettings
    from services.training.train import train_readmission

    settings = TrainingSettings(home=home, hpo_trials=trials, hpo_families=families)
    if alias_version(MODEL, CHAMPION, settings) is None:
        started = time.perf_counter()
        outcome = train_readmission(
            settings,
            database_url=resolve_database_url(settings),
            frame=generate_readmission(rows, seed=settings.seed),
            source=f"generated ({rows} encounters)",
            families=parse_families(families),
            trials=trials,
            say=lambda line: print(f"  {line.splitlines()[0]}", flush=True),
        )
        if not outcome.passed:
            raise SystemExit("training failed a gate; no champion to benchmark")
        print(f"trained in {time.perf_counter() - started:.0f}s", flush=True)
    champion = alias_version(MODEL, CHAMPION, settings)
    return {
        "version": str(champion.version),
        "model_family": champion.tags.get("beacon.model_family"),
    }


class Server:
    """A server process we started (in its own process group, so its workers stop with it)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int) -> None:
        self.name = name
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - read on failure, closed in stop()
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, path: str, ready: Any, timeout: float = 180.0) -> None:
        """Poll `path` until `ready(response)` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                response = httpx.get(self.base_url + path, timeout=2)
                if ready(response):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.log.seek(0)
        tail = self.log.read().decode(errors="replace")[-3000:]
        raise SystemExit(f"{self.name} did not become ready:\n{tail}")

    def stop(self) -> None:
        """SIGTERM to the group we started, then SIGKILL if it lingers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def beacon_body(records: list[dict]) -> dict:
    """/v1/predict/readmission request body."""
    return {"records": records}


def mlflow_body(records: list[dict]) -> dict:
    """/invocations request body (pandas records orientation)."""
    return {"dataframe_records": records}


def beacon_probabilities(payload: dict) -> list[float]:
    """Probabilities from a /v1/predict/readmission response."""
    return [p["probability"] for p in payload["predictions"]]


def mlflow_probabilities(payload: dict) -> list[float]:
    """Positive-class probabilities from an /invocations response (predict_proba rows)."""
    rows = payload["predictions"]
    return [row[1] if isinstance(row, list) else row["1"] for row in rows]


def latency(client: httpx.Client, path: str, bodies: list[dict], warmup: int = 30) -> dict:
    """Sequential requests: p50/p95/p99 in milliseconds."""
    for body in bodies[:warmup]:
        client.post(path, json=body).raise_for_status()
    timings = []
    for body in bodies:
        started = time.perf_counter()
        response = client.post(path, json=body)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return {
        "p50_ms": round(percentile(timings, 50), 2),
        "p95_ms": round(percentile(timings, 95), 2),
        "p99_ms": round(percentile(timings, 99), 2),
        "requests": len(timings),
    }


async def _throughput(
    base_url: str, path: str, bodies: list[dict], rows: int, concurrency: int, seconds: float
) -> dict:
    done = errors = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient, offset: int) -> None:
        nonlocal done, errors
        i = offset
        while time.perf_counter() < stop_at:
            response = await client.post(path, json=bodies[i % len(bodies)])
            i += concurrency
            if response.status_code == 200:
                done += 1
            else:
                errors += 1

    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client, k) for k in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "requests_per_s": round(done / elapsed, 1),
        "rows_per_s": round(done * rows / elapsed, 1),
        "errors": errors,
        "concurrency": concurrency,
        "seconds": round(elapsed, 1),
    }


def throughput(
    base_url: str, path: str, bodies: list[dict], rows: int, concurrency: int, seconds: float
) -> dict:
    """Requests and rows per second with `concurrency` requests in flight for `seconds`."""
    return asyncio.run(_throughput(base_url, path, bodies, rows, concurrency, seconds))


def measure(server: Server, path: str, make_body: Any, records: list[dict], args) -> dict:
    """Latency and throughput for single rows and batches of `args.batch`."""
    singles = [make_body([records[i % len(records)]]) for i in range(args.requests)]
    batches = [
        make_body([records[(i * args.batch + j) % len(records)] for j in range(args.batch)])
        for i in range(max(args.requests // 5, 20))
    ]
    out: dict[str, Any] = {}
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        print(f"  [{server.name}] latency, single rows", flush=True)
        out["single_latency"] = latency(client, path, singles)
        print(f"  [{server.name}] latency, batches of {args.batch}", flush=True)
        out["batch_latency"] = latency(client, path, batches, warmup=5)
    print(f"  [{server.name}] throughput, single rows", flush=True)
    out["single_throughput"] = throughput(
        server.base_url, path, singles, 1, args.concurrency, args.seconds
    )
    print(f"  [{server.name}] throughput, batches of {args.batch}", flush=True)
    out["batch_throughput"] = throughput(
        server.base_url, path, batches, args.batch, args.concurrency, args.seconds
    )
    return out


def agreement(records: list[dict]) -> float:
    """Largest absolute difference between the two servers' probabilities (same model)."""
    return float(np.max(np.abs(np.subtract(*records))))


def report(figures: dict) -> str:
    """A side-by-side table; ratios are Beacon's advantage over each MLflow server."""
    b = figures["beacon"]
    others = [k for k in figures if k.startswith("mlflow")]
    head = f"{'':30}{'beacon':>10}" + "".join(f"{k.removeprefix('mlflow_'):>24}" for k in others)
    lines = [head]
    for key, label in (("single_latency", "single row"), ("batch_latency", "batch")):
        for q in ("p50_ms", "p95_ms", "p99_ms"):
            cells = "".join(
                f"{figures[o][key][q]:>14} ({figures[o][key][q] / b[key][q]:5.2f}x)" for o in others
            )
            lines.append(f"{label + ' ' + q:30}{b[key][q]:>10}{cells}")
    for key, label in (("single_throughput", "single row"), ("batch_throughput", "batch")):
        for unit in ("requests_per_s", "rows_per_s"):
            cells = "".join(
                f"{figures[o][key][unit]:>14} ({b[key][unit] / figures[o][key][unit]:5.2f}x)"
                for o in others
            )
            lines.append(f"{label + ' ' + unit:30}{b[key][unit]:>10}{cells}")
    lines.append("(x: MLflow latency / Beacon latency; Beacon throughput / MLflow throughput)")
    return "\n".join(lines)


def mlflow_server(name: str, tracking_uri: str, env: dict[str, str], **extra: str) -> Server:
    """`mlflow models serve` on the champion: local environment, one worker, loopback."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("mlflow")),
        "models",
        "serve",
        "-m",
        f"models:/{MODEL}@champion",
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-w",
        "1",
    ]
    # mlflow starts its scoring server with `exec uvicorn` through bash: the venv's bin folder
    # must be on PATH even when the venv is not activated (as under `make`).
    path = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return Server(
        name, command, {**env, "PATH": path, "MLFLOW_TRACKING_URI": tracking_uri, **extra}, port
    )


def main() -> None:
    """Train (if needed), start both servers, measure, print one JSON document and a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="generated encounters to train on")
    parser.add_argument("--trials", type=int, default=3, help="Optuna trials per family")
    parser.add_argument(
        "--families", default="hist_gb", help="model families to train (comma-separated)"
    )
    parser.add_argument("--requests", type=int, default=500, help="sequential single-row requests")
    parser.add_argument("--batch", type=int, default=100, help="rows per batch request")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each load run")
    parser.add_argument(
        "--predict-batch-rows",
        type=int,
        default=None,
        help="Beacon's BEACON_PREDICT_BATCH_ROWS (1 turns merging of concurrent requests off)",
    )
    args = parser.parse_args()

    with temporary_home("beacon-bench-predict-") as home:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        print(f"home {home}: training a quick champion", flush=True)
        champion = train_champion(home, args.rows, args.trials, args.families)
        tracking_uri = f"sqlite:///{home / 'mlflow' / 'mlflow.db'}"
        print(f"serving {MODEL} version {champion['version']} ({champion['model_family']})")

        env = {k: v for k, v in os.environ.items() if not k.startswith(("BEACON_", "MLFLOW_"))}
        env.update(BEACON_HOME=str(home), BEACON_LOG_LEVEL="WARNING", BEACON_LOG_FORMAT="text")
        beacon_env = dict(env)
        if args.predict_batch_rows is not None:
            beacon_env["BEACON_PREDICT_BATCH_ROWS"] = str(args.predict_batch_rows)
        beacon_port = free_port()
        beacon = Server(
            "beacon",
            [sys.executable, "-m", "services.cli", "serve", "--port", str(beacon_port)],
            beacon_env,
            beacon_port,
        )
        # As users run it, and with OpenMP pinned to one thread as Beacon pins it per request:
        # the second isolates the servers' own overhead from thread-pool contention.
        mlflows = {
            "mlflow_models_serve": mlflow_server("mlflow", tracking_uri, env),
            "mlflow_models_serve_omp1": mlflow_server(
                "mlflow-omp1", tracking_uri, env, OMP_NUM_THREADS="1"
            ),
        }
        try:
            beacon.wait_ready(
                "/v1/model/info",
                lambda r: (
                    r.status_code == 200
                    and r.json()["models"]["readmission"]["status"] == "serving"
                ),
            )
            for server in mlflows.values():
                server.wait_ready("/ping", lambda r: r.status_code == 200)
            from services.training.readmission_synthetic import generate_readmission

            frame = generate_readmission(1000, seed=12345)[FEATURE_COLUMNS]
            records = frame.to_dict(orient="records")
            sample = records[:50]
            got_b = beacon_probabilities(
                httpx.post(
                    f"{beacon.base_url}/v1/predict/readmission",
                    json=beacon_body(sample),
                    timeout=30,
                ).json()
            )
            got_m = mlflow_probabilities(
                httpx.post(
                    f"{mlflows['mlflow_models_serve'].base_url}/invocations",
                    json=mlflow_body(sample),
                    timeout=30,
                ).json()
            )
            figures: dict[str, Any] = {
                "model": {"name": MODEL, **champion},
                "max_probability_difference": agreement([got_b, got_m]),
                "settings": vars(args),
                "cpus": os.cpu_count(),
                "load_average_at_start": os.getloadavg(),
            }
            print("measuring beacon", flush=True)
            figures["beacon"] = measure(
                beacon, "/v1/predict/readmission", beacon_body, records, args
            )
            for key, server in mlflows.items():
                print(f"measuring {server.name} (mlflow models serve)", flush=True)
                figures[key] = measure(server, "/invocations", mlflow_body, records, args)
        finally:
            beacon.stop()
            for server in mlflows.values():
                server.stop()
        b, m = figures["beacon"], figures["mlflow_models_serve"]
        figures["targets"] = {
            "single_row_p95_ms<=15": b["single_latency"]["p95_ms"] <= 15.0,
            "single_row_throughput_ratio>=2": b["single_throughput"]["requests_per_s"]
            >= 2 * m["single_throughput"]["requests_per_s"],
            "batch_throughput_ratio>=2": b["batch_throughput"]["rows_per_s"]
            >= 2 * m["batch_throughput"]["rows_per_s"],
        }
        print("== figures ==")
        print(json.dumps(figures, indent=2))
        print(report(figures))


if __name__ == "__main__":
    main()

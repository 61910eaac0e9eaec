"""Drift benchmarks: one drift check on 20,000 rows x 50 columns, and prediction-logging cost.

`--parts check` times `check_drift` (scoring + Evidently's data-drift preset + score drift +
classification preset) and the report files on 20,000 current vs 20,000 reference rows.
`--parts logging` serves one champion twice (BEACON_PREDICTION_LOG on and off, same home,
same model) and measures /v1/predict/readmission single-record latency in alternating rounds.
Works standalone in a temporary Beacon home. `python -m bench.bench_drift --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import httpx

from bench.bench_predict import Server, free_port, latency, percentile, train_champion
from services.training.readmission_schema import FEATURE_COLUMNS


def bench_check(rows: int) -> dict[str, Any]:
    """Time one drift check of `rows` current rows against `rows` reference rows."""
    from services.drift.checks import check_drift
    from services.drift.outputs import write_outputs
    from services.drift.reference import Reference
    from services.drift.settings import DriftSettings
    from services.training.drift_scenarios import SCENARIOS
    from services.training.families import FAMILIES
    from services.training.features import build_preprocessor, model_pipeline
    from services.training.readmission_schema import TARGET_COLUMN, to_target
    from services.training.readmission_synthetic import generate_readmission

    frame = generate_readmission(rows * 5, seed=3, scenario=SCENARIOS["default"])
    reference = frame.iloc[:rows].assign(split="test")
    current = frame.iloc[-rows:].reset_index(drop=True)
    model = model_pipeline(build_preprocessor(), FAMILIES["logreg"].build({"C": 1.0}, 0, 1))
    model.fit(reference[FEATURE_COLUMNS], to_target(reference[TARGET_COLUMN]))
    ref = Reference("bench", "0", "champion", model, reference, 0.5)
    with tempfile.TemporaryDirectory() as tmp:
        settings = DriftSettings(home=Path(tmp))
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            result = check_drift(ref, current, settings, label="bench")
            checked = time.perf_counter()
            write_outputs(result, settings, str(Path(tmp) / "out"))
            timings.append((checked - started, time.perf_counter() - checked))
    columns = len(FEATURE_COLUMNS) + 2  # features, the score and the label
    best = min(timings, key=sum)
    return {
        "rows_current": len(current),
        "rows_reference": len(reference),
        "columns": columns,
        "check_seconds": round(best[0], 2),
        "report_files_seconds": round(best[1], 2),
        "total_seconds": round(sum(best), 2),
        "runs": [[round(a, 2), round(b, 2)] for a, b in timings],
        "drifted_columns": result.drifted_columns,
    }


def bench_logging(requests: int, rounds: int) -> dict[str, Any]:
    """p50/p95/p99 of /v1/predict/readmission with the prediction log on and off."""
    from services.training.readmission_synthetic import generate_readmission

    with tempfile.TemporaryDirectory(prefix="beacon-bench-drift-") as tmp:
        home = Path(tmp)
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        print("training a quick champion", flush=True)
        champion = train_champion(home, 20_000, 2, "hist_gb")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BEACON_", "MLFLOW_"))}
        env.update(BEACON_HOME=str(home), BEACON_LOG_LEVEL="WARNING", BEACON_LOG_FORMAT="text")
        servers = {}
        for mode, flag in (("log_on", "true"), ("log_off", "false")):
            port = free_port()
            servers[mode] = Server(
                mode,
                [sys.executable, "-m", "services.cli", "serve", "--port", str(port)],
                {**env, "BEACON_PREDICTION_LOG": flag},
                port,
            )
        records = generate_readmission(requests, seed=77)[FEATURE_COLUMNS].to_dict("records")
        bodies = [{"records": [record]} for record in records]
        timings: dict[str, list[float]] = {mode: [] for mode in servers}
        try:
            for server in servers.values():
                server.wait_ready("/ready", lambda r: r.status_code == 200)
            for round_number in range(rounds):
                for mode, server in servers.items():  # alternate: drift in load hits both
                    with httpx.Client(base_url=server.base_url, timeout=30) as client:
                        figures = latency(client, "/v1/predict/readmission", bodies, warmup=20)
                    timings[mode].append(figures["p95_ms"])
                    print(f"round {round_number + 1} {mode}: {figures}", flush=True)
            with httpx.Client(base_url=servers["log_on"].base_url) as client:
                metrics = client.get("/metrics").text
        finally:
            for server in servers.values():
                server.stop()
    written = [ln for ln in metrics.splitlines() if "prediction_log_records_total" in ln]
    on, off = timings["log_on"], timings["log_off"]
    return {
        "model_version": champion["version"],
        "requests_per_round": requests,
        "rounds": rounds,
        "p95_ms_log_on_median_of_rounds": round(percentile(on, 50), 3),
        "p95_ms_log_off_median_of_rounds": round(percentile(off, 50), 3),
        "p95_added_ms": round(percentile(on, 50) - percentile(off, 50), 3),
        "p95_ms_per_round": {"log_on": on, "log_off": off},
        "prediction_log_counters": written,
    }


def main() -> None:
    """Run the chosen parts and print one JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="check,logging", help="check and/or logging")
    parser.add_argument("--rows", type=int, default=20_000, help="rows per side of the check")
    parser.add_argument("--requests", type=int, default=400, help="requests per logging round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per mode")
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = parts - {"check", "logging"}
    if unknown:
        parser.error(f"--parts: unknown part(s) {', '.join(sorted(unknown))}")
    figures: dict[str, Any] = {"cpus": os.cpu_count(), "load_average": os.getloadavg()}
    if "check" in parts:
        print("timing a drift check", flush=True)
        figures["check"] = bench_check(args.rows)
    if "logging" in parts:
        figures["logging"] = bench_logging(args.requests, args.rounds)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

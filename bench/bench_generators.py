"""Generator and enqueue speeds that used to be wall-clock thresholds inside tests.

Prints, as JSON: seconds for the default sample corpus (5,000 postings, 1,000 resumes), for the
full-size generated readmission data (100,000 encounters), and the time to enqueue 150
prediction-log records into a writer that is batching (the API's request path must never
wait for it). `python -m bench.bench_generators --help` lists the knobs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


def _best_of(repeat: int, func) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return {"best_s": round(min(times), 3), "median_s": round(statistics.median(times), 3)}


def enqueue_seconds(records: int = 150) -> float:
    """Seconds to record `records` predictions while the writer waits 30 s to batch."""
    from services.core.database import Database
    from services.serving.metrics import Metrics
    from services.serving.prediction_log import PredictionLog

    dead = Database("postgresql://beacon@127.0.0.1:9/none", min_size=0, timeout=1.0)
    log = PredictionLog(dead, Metrics(lambda: None), max_queue=100, flush_seconds=30)
    started = time.perf_counter()
    for _ in range(records):
        log.record("readmission", "1", [{"age": "[70-80)"}], np.array([0.5]))
    elapsed = time.perf_counter() - started
    log.close()
    dead.close()
    return elapsed


def main() -> None:
    """Time each generator `--repeat` times and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from services.jobs.synthetic import generate_corpus
    from services.training.readmission_synthetic import generate_readmission

    figures = {
        "default_corpus_5000_postings_1000_resumes": _best_of(args.repeat, generate_corpus),
        "readmission_100000_encounters": _best_of(args.repeat, generate_readmission),
        "prediction_log_enqueue_150_records_ms": round(enqueue_seconds() * 1000, 3),
        "former_test_limits_s": {"corpus": 5, "readmission": 15, "enqueue": 1.0},
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

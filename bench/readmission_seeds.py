"""Repeated holdout of readmission training: the chosen model's test ROC AUC over many seeds.

The test split of the oldest 20 % holds about 3,000 encounters, so its ROC AUC moves by about
+-0.03 with which patients it happens to hold. One run's figure is one draw. This bench reruns
the training job itself (`train_readmission(stop_after="train")`: data gate, every family's
Optuna search, refit, test scores; nothing is registered) once per seed. The seed sets the
patient split, the sampler and the models, as BEACON_SEED does. It prints the chosen model's
test ROC AUC per seed, then their mean, spread and range: what the pipeline scores in
expectation rather than on one split. About 80 s per seed on two cores, with the defaults.

    python -m bench.readmission_seeds --data ../shared/data/diabetes-130-us/dataset_diabetes.zip \
        --seeds 1-10
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench.temp_home import temporary_home

REAL_FILE = Path(__file__).resolve().parents[2] / "shared/data/diabetes-130-us/dataset_diabetes.zip"


def parse_seeds(text: str) -> list[int]:
    """`1-10`, `1,5,42` or a mix of both, in the order given."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        seeds += list(range(int(low), int(high or low) + 1))
    if not seeds:
        raise SystemExit("--seeds names no seed")
    return seeds


def one_seed(
    home: Path, data: tuple[Any, str], seed: int, trials: int, families: str, share: float
) -> dict[str, Any]:
    """Train once on `data` (frame, source) with `seed` in `home`; every family's test figures."""
    from services.core.database import resolve_database_url
    from services.training.families import parse_families
    from services.training.settings import TrainingSettings
    from services.training.train import train_readmission

    settings = TrainingSettings(
        _env_file=None,
        home=home,
        seed=seed,
        hpo_trials=trials,
        hpo_families=families,
        initial_share=share,
    )
    frame, source = data
    started = time.perf_counter()
    outcome = train_readmission(
        settings,
        database_url=resolve_database_url(settings),
        frame=frame,
        source=source,
        run_id=f"seed-{seed}-share-{share}",
        families=parse_families(families),
        trials=trials,
        stop_after="train",
    )
    if outcome.best is None:
        failed = ", ".join(g.name for g in outcome.gates if not g.passed)
        raise SystemExit(f"seed {seed}: training stopped at a gate ({failed})")
    best = outcome.best
    return {
        "seed": seed,
        "chosen": best.family,
        "validation_roc_auc": round(best.valid["roc_auc"], 4),
        "test_roc_auc": round(best.test["roc_auc"], 4),
        "test_interval": [round(best.test["roc_auc_low"], 4), round(best.test["roc_auc_high"], 4)],
        "families": {r.family: round(r.test["roc_auc"], 4) for r in outcome.families},
        "seconds": round(time.perf_counter() - started, 1),
    }


def summary(rows: list[dict[str, Any]], target: float | None) -> dict[str, Any]:
    """Mean, standard deviation, range and standard error of the chosen test ROC AUC."""
    scores = [r["test_roc_auc"] for r in rows]
    spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
    out: dict[str, Any] = {
        "seeds": len(scores),
        "mean": round(statistics.fmean(scores), 4),
        "sd": round(spread, 4),
        "standard_error_of_mean": round(spread / len(scores) ** 0.5, 4),
        "min": min(scores),
        "max": max(scores),
        "chosen": {f: sum(r["chosen"] == f for r in rows) for f in rows[0]["families"]},
        "family_means": {
            f: round(statistics.fmean(r["families"][f] for r in rows), 4)
            for f in rows[0]["families"]
        },
    }
    if target is not None:
        out[f"seeds_at_or_above_{target}"] = sum(s >= target for s in scores)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REAL_FILE, help="the UCI zip or its CSV")
    parser.add_argument("--seeds", default="1-10", help="e.g. 1-10 or 1,5,42 (default 1-10)")
    parser.add_argument("--trials", type=int, default=30, help="trials per family (default 30)")
    parser.add_argument(
        "--families", default="logreg,random_forest,hist_gb,lightgbm", help="model families"
    )
    parser.add_argument(
        "--initial-share",
        type=float,
        default=0.2,
        help="oldest share of encounters split 70/15/15 (default 0.2, as BEACON_INITIAL_SHARE)",
    )
    parser.add_argument("--target", type=float, default=None, help="count seeds at or above")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if not args.data.exists():
        raise SystemExit(f"--data: no file at {args.data}")
    seeds = parse_seeds(args.seeds)
    rows: list[dict[str, Any]] = []
    from services.training.settings import TrainingSettings
    from services.training.train import load_data

    with temporary_home("beacon-bench-seeds-") as home:
        os.environ.pop("MLFLOW_TRACKING_URI", None)  # the temporary home's own store
        # Read, checked and hashed once: every seed trains on the same rows.
        data = load_data(TrainingSettings(_env_file=None, home=home), args.data, None)
        for number, seed in enumerate(seeds, start=1):
            row = one_seed(home, data, seed, args.trials, args.families, args.initial_share)
            rows.append(row)
            low, high = row["test_interval"]
            print(
                f"[{number}/{len(seeds)}] seed {seed:>4}: {row['chosen']:<13} test ROC AUC "
                f"{row['test_roc_auc']:.4f} [{low:.3f}-{high:.3f}], validation "
                f"{row['validation_roc_auc']:.4f} ({row['seconds']:.0f} s)",
                flush=True,
            )
    result = {"initial_share": args.initial_share} | summary(rows, args.target)
    print(json.dumps(result, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps({"seeds": rows, "summary": result}, indent=2) + "\n")


if __name__ == "__main__":
    main()

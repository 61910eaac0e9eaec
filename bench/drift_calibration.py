"""Drift-gate calibration on a real file: what each gate finds in time order and in the control.

Trains one model on the oldest share (histogram gradient boosting, fixed parameters, no
search), then checks every later batch against its held-out rows, twice: in time order, and
with the same rows in shuffled time order (the control, where nothing drifts). Prints per
batch the gates, the drifted columns and the concept figures, then the count of batches on
which each check fired: on the control those are false alarms. No MLflow, no database.

    python -m bench.drift_calibration --data ../shared/data/diabetes-130-us/dataset_diabetes.zip
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from typing import Any


def run(data: str, batches: int, initial_share: float, seed: int) -> dict[str, Any]:
    """Per-order (time, control) list of per-batch findings, and the counts of alarms."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier

    from services.drift.checks import check_drift
    from services.drift.reference import Reference
    from services.drift.settings import DriftSettings
    from services.drift.simulate import shuffled_time
    from services.training.features import build_preprocessor, model_pipeline
    from services.training.informative import uninformative_columns
    from services.training.readmission_io import load_readmission_csv
    from services.training.readmission_schema import FEATURE_COLUMNS, TARGET_COLUMN, to_target
    from services.training.readmission_splits import split_readmission

    settings = DriftSettings(_env_file=None)
    frame = load_readmission_csv(data)
    out: dict[str, Any] = {}
    for order in ("time", "control"):
        rows = frame if order == "time" else shuffled_time(frame, seed)
        splits = split_readmission(rows, initial_share=initial_share, seed=seed)
        estimator = HistGradientBoostingClassifier(
            learning_rate=0.05, max_iter=200, max_leaf_nodes=15, random_state=seed
        )
        model = model_pipeline(
            build_preprocessor(drop=uninformative_columns(splits.train)), estimator
        )
        model.fit(splits.train[FEATURE_COLUMNS], to_target(splits.train[TARGET_COLUMN]))
        held_out = pd.concat([splits.validation, splits.test], ignore_index=True)
        reference = Reference("calibration", "1", "champion", model, held_out, 0.5)
        steps, alarms = [], Counter()
        for number, batch in enumerate(splits.future_batches(batches), start=1):
            result = check_drift(reference, batch, settings, label=f"batch-{number}")
            failed = [g.name for g in result.gates if not g.passed]
            failed += [
                f"{g.name}: {c.name}" for g in result.gates for c in g.checks if not c.passed
            ]
            alarms.update(failed)
            c = result.concept or {}
            step = {
                "batch": number,
                "failed": failed,
                "drifted": result.drifted_columns,
                "share": round(result.share_of_drifted_columns, 3),
                "prediction_drift": result.prediction["score"],
                "auc": (c.get("roc_auc_reference"), c.get("roc_auc_current")),
                "auc_drop_lower_bound": c.get("roc_auc_drop_lower_bound"),
                "calibration_gap": c.get("calibration_gap"),
                "calibration_z": c.get("calibration_z"),
            }
            print(order, json.dumps(step), flush=True)
            steps.append(step)
        out[order] = {"steps": steps, "alarms": dict(alarms)}
        print(order, "alarms per check:", json.dumps(dict(alarms)), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="diabetic_data.csv or the UCI zip")
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--initial-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    run(args.data, args.batches, args.initial_share, args.seed)


if __name__ == "__main__":
    main()

"""What a training run records in MLflow so a resumed stage reuses it, not redoes it.

A pipeline runs `validate`, `train`, `register` and `promote` as separate processes under one
run id. Each later stage used to repeat the data gate (an Evidently import and report) and
refit, re-plot and re-log every family's best model, leaving one orphan logged model per
stage. Now the data gate's verdict is kept on the run's parent MLflow run and each family's
refit result on its family run, both under a fingerprint of what produced them; a stage
reuses a record only when the fingerprint (data, settings, trials budget) still matches.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from services.mlops.gates import Check, GateResult
from services.training.settings import TrainingSettings

#: Parent-run tag: fingerprint of the data gate whose verdict is in GATE_ARTIFACT.
TAG_DATA_GATE = "beacon.data_gate"
GATE_ARTIFACT = "data/data_gate.json"
#: Family-run tag: the refit result (JSON) once the family's search and refit finished.
TAG_FAMILY_RESULT = "beacon.family_result"


@dataclass
class FamilyResult:
    """The best model of one family, refit on the whole training split."""

    family: str
    label: str
    params: dict[str, Any]
    trials: int
    valid: dict[str, float]
    test: dict[str, float]
    threshold: float
    model: Any = field(default=None, repr=False)  # None when reused from the record
    run_id: str = ""
    model_uri: str = ""
    best_trial: int = -1


def gate_fingerprint(
    source: str, settings: TrainingSettings, dropped: dict[str, str], rows: tuple[int, ...]
) -> str:
    """What the data gate's verdict depends on: the data, its split, and the gate's limits."""
    payload = {
        "source": source,
        "rows": list(rows),
        "seed": settings.seed,
        "initial_share": settings.initial_share,
        "max_missing_increase": settings.validation_max_missing_share,
        "drift_share": settings.validation_drift_share,
        "dropped": sorted(dropped),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def record_data_gate(gate: GateResult, fingerprint: str) -> None:
    """Keep a passed gate's verdict on the active (parent) MLflow run."""
    import mlflow

    record = {"name": gate.name, "passed": gate.passed, "summary": gate.summary}
    record["checks"] = [asdict(c) for c in gate.checks]
    mlflow.log_dict(record, GATE_ARTIFACT)
    mlflow.set_tag(TAG_DATA_GATE, fingerprint)


def recorded_data_gate(parent_run_id: str | None, fingerprint: str) -> GateResult | None:
    """The verdict an earlier stage recorded under the same fingerprint, or None."""
    if parent_run_id is None:
        return None
    import mlflow

    run = mlflow.get_run(parent_run_id)
    if run.data.tags.get(TAG_DATA_GATE) != fingerprint:
        return None
    record = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/{GATE_ARTIFACT}")
    checks = [Check(**c) for c in record["checks"]]
    return GateResult(record["name"], bool(record["passed"]), checks, record["summary"])


def record_family(result: FamilyResult, fingerprint: str) -> None:
    """Mark the active family run finished, with what a later stage needs to go on."""
    import mlflow

    record = {k: v for k, v in asdict(result).items() if k != "model"}
    record["fingerprint"] = fingerprint
    mlflow.set_tag(TAG_FAMILY_RESULT, json.dumps(record, default=float))


def recorded_family(
    family_run_id: str | None, fingerprint: str, budget: int
) -> FamilyResult | None:
    """The family's recorded result, when it finished under `fingerprint` with the full budget.

    A result with fewer completed trials than `budget` is not reused: the search would top
    the study up (a larger budget, or a run cut short by its time limit) and may find a
    better trial.
    """
    if family_run_id is None:
        return None
    import mlflow

    raw = mlflow.get_run(family_run_id).data.tags.get(TAG_FAMILY_RESULT)
    if not raw:
        return None
    record = json.loads(raw)
    if record.pop("fingerprint", None) != fingerprint or record["trials"] < budget:
        return None
    return FamilyResult(**record)

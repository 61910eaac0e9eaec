"""Training stages a pipeline runs as separate tasks: data snapshot and gated promotion."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from services.core.errors import InputError
from services.core.locks import job_lock
from services.core.storage import Storage, join
from services.mlops import registry
from services.mlops.gates import GateResult
from services.training.readmission_io import write_readmission_csv
from services.training.readmission_splits import split_readmission
from services.training.settings import TrainingSettings
from services.training.train import MODEL_NAME, load_data, promote_if_passes

SNAPSHOT_FILE = "diabetic_data.csv"


def snapshot_uri(settings: TrainingSettings, run_id: str, model_name: str = MODEL_NAME) -> str:
    """Where the data of one training run is kept: <storage>/training/<model>/<run id>/."""
    return join(settings.resolved_storage_uri, "training", model_name, run_id, SNAPSHOT_FILE)


@dataclass(frozen=True)
class Snapshot:
    """What `ingest` left in storage."""

    uri: str
    rows: int | None  # None: an earlier attempt wrote it and it was kept as is
    source: str


def ingest(
    settings: TrainingSettings,
    *,
    run_id: str,
    data: Path | None = None,
    ids_mapping: Path | None = None,
    out: str | None = None,
) -> Snapshot:
    """Validate the input (a file, or the generated data) and freeze it for the run.

    A snapshot that already exists is kept: every stage of a run, and every rerun of it,
    reads the same rows even if the source changed in between.
    """
    uri = out or snapshot_uri(settings, run_id)
    storage = Storage(settings.aws_region)
    if storage.exists(uri):
        return Snapshot(uri, None, "existing snapshot")
    frame, source = load_data(settings, data, ids_mapping)
    with tempfile.TemporaryDirectory(prefix="beacon-ingest-") as tmp:
        local = write_readmission_csv(frame, Path(tmp) / SNAPSHOT_FILE)
        storage.write_bytes(uri, local.read_bytes())
    return Snapshot(uri, len(frame), source)


@dataclass(frozen=True)
class Promotion:
    """The champion/challenger verdict and the alias move it caused, if any."""

    gate: GateResult
    version: str
    move: registry.AliasMove | None


def candidate_version(
    settings: TrainingSettings, model_name: str, run_id: str | None, version: str | None
) -> str:
    """The version to judge: given, else the one registered by `run_id`, else the challenger."""
    if version:
        return version
    if run_id:
        found = registry.client(settings).search_model_versions(
            f"name = '{model_name}' AND tags.`{registry.TAG_RUN_ID}` = '{run_id}'"
        )
        if not found:
            raise InputError(f"{model_name}: no version was registered by run {run_id}")
        return str(max(int(v.version) for v in found))
    challenger = registry.alias_version(model_name, registry.CHALLENGER, settings)
    if challenger is None:
        raise InputError(f"{model_name}: no version has the alias {registry.CHALLENGER!r}")
    return str(challenger.version)


def promote_if_better(
    settings: TrainingSettings,
    *,
    database_url: str,
    data: Path | None,
    model_name: str = MODEL_NAME,
    run_id: str | None = None,
    version: str | None = None,
) -> Promotion:
    """Champion/challenger gate on the run's test split; move `champion` only if it passes.

    The split is the training job's own (same data, share and seed), so the challenger is
    judged on exactly the encounters `beacon train readmission` would have used.
    """
    frame, _ = load_data(settings, data, None)
    splits = split_readmission(frame, initial_share=settings.initial_share, seed=settings.seed)
    with job_lock(database_url, f"promote:{model_name}"):
        chosen = candidate_version(settings, model_name, run_id, version)
        gate, move = promote_if_passes(model_name, chosen, splits.test, settings)
    return Promotion(gate, chosen, move)

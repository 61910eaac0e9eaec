"""The reference a model is checked against: its held-out training data, from MLflow."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from services.core.errors import BeaconError
from services.mlops import registry
from services.training.settings import TrainingSettings


@dataclass(frozen=True)
class Reference:
    """A registered model version, its loaded model, and its labelled reference rows."""

    model_name: str
    version: str
    alias: str
    model: Any
    frame: pd.DataFrame  # raw columns plus `split` (validation or test)
    threshold: float

    @cached_property
    def scores(self) -> np.ndarray:
        """The model's scores on the reference rows, computed once per loaded version."""
        from services.training.readmission_schema import FEATURE_COLUMNS

        return self.model.predict_proba(self.frame[FEATURE_COLUMNS])[:, 1]


def load_reference(model_name: str, settings: TrainingSettings, alias: str) -> Reference:
    """Load the version behind `alias`, and the reference data its training run logged."""
    import mlflow
    from mlflow.environment_variables import MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR

    from services.mlops.runs import find_run
    from services.training.train import REFERENCE_ARTIFACT

    MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR.set(False)  # a progress bar per small file is noise
    registry.configure_mlflow(settings)
    # None only when MLflow says the model or alias does not exist; an auth or network
    # failure raises instead of reading as "not trained yet".
    version = registry.alias_version(model_name, alias, settings)
    if version is None:
        raise BeaconError(
            f"model {model_name!r} has no {alias!r} version yet: run `beacon train "
            f"{model_name}` first"
        )
    run_id = version.tags.get(registry.TAG_RUN_ID, "")
    experiment_id = registry.ensure_experiment(model_name, settings)
    training_run = find_run(experiment_id, run_id, kind="training") if run_id else None
    if training_run is None:
        raise BeaconError(
            f"{model_name} version {version.version} has no training run with reference data: "
            "retrain it with this version of Beacon"
        )
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(
                run_id=training_run, artifact_path=REFERENCE_ARTIFACT, dst_path=tmp
            )
        except Exception as exc:
            raise BeaconError(
                f"{model_name} version {version.version}: reference data not found in its "
                f"training run ({type(exc).__name__}); retrain it with this version of Beacon"
            ) from exc
        frame = pd.read_parquet(Path(path))
    model = registry.load_model(model_name, str(version.version), settings)
    threshold = float(version.tags.get(registry.TAG_THRESHOLD, "0.5"))
    return Reference(model_name, str(version.version), alias, model, frame, threshold)

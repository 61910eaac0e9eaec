"""The trained recommenders as an MLflow model: log the bundle, and load a registered version."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from services.recommender.algorithms import BUNDLE_FILE, EventsModel

ARTIFACT_NAME = "events_model"
BUNDLE_KEY = "bundle"
PYFUNC_CODE = Path(__file__).with_name("pyfunc_model.py")


def log_events_model(model: EventsModel) -> Any:
    """Log the bundle in the active MLflow run; returns the ModelInfo (its model_uri)."""
    from importlib.metadata import version

    import mlflow.pyfunc
    import pandas as pd
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    requirements = [f"{n}=={version(n)}" for n in ("mlflow", "numpy", "scipy", "pandas")]
    with tempfile.TemporaryDirectory(prefix="beacon-events-model-") as tmp:
        folder = model.save(Path(tmp) / BUNDLE_KEY)
        return mlflow.pyfunc.log_model(
            name=ARTIFACT_NAME,
            python_model=str(PYFUNC_CODE),
            artifacts={BUNDLE_KEY: str(folder)},
            pip_requirements=requirements,
            # MLflow runs the pyfunc on this example while logging: a smoke test of the bundle.
            input_example=pd.DataFrame({"user_id": [str(model.user_ids[0])]}),
            # Given, not inferred: MLflow cannot derive one from a DataFrame type hint.
            signature=ModelSignature(
                inputs=Schema(
                    [ColSpec("string", "user_id"), ColSpec("string", "algorithm", required=False)]
                )
            ),
        )


def load_events_model(tracking_uri: str, name: str, version: str) -> EventsModel:
    """Download a registered version's bundle and read its arrays (no pickle involved)."""
    from mlflow.artifacts import download_artifacts
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    uri = client.get_model_version_download_uri(name, version)
    with tempfile.TemporaryDirectory(prefix="beacon-events-load-") as tmp:
        local = Path(download_artifacts(artifact_uri=uri, dst_path=tmp, tracking_uri=tracking_uri))
        bundles = sorted(local.rglob(BUNDLE_FILE))
        if not bundles:
            raise FileNotFoundError(f"{name} version {version} holds no {BUNDLE_FILE}")
        return EventsModel.load(bundles[0].parent)

"""Fixtures of the training tests: one real MLflow store per session, small generated data."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def training_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Beacon home whose local MLflow store (SQLite + artifacts) the session shares.

    Creating an MLflow database takes seconds, so tests share one store and keep apart by
    registering under unique model names.
    """
    return tmp_path_factory.mktemp("training-home")


@pytest.fixture(scope="session")
def training_settings(training_home: Path):
    """Small, single-threaded training settings on the session's MLflow store."""
    from services.training.settings import TrainingSettings

    # mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI; another module's store must not leak.
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    return TrainingSettings(
        home=training_home,
        hpo_trials=2,
        train_threads=1,
        readmission_rows=8000,
        initial_share=0.5,  # 4,000 initial encounters: test AUCs on ~600 rows, not ~240
        hpo_families="logreg",
    )


@pytest.fixture(scope="session")
def small_frame():
    """8,000 generated encounters (seed 7)."""
    from services.training.readmission_synthetic import generate_readmission

    return generate_readmission(8000, seed=7)


@pytest.fixture(scope="session")
def small_splits(small_frame, training_settings):
    """The small frame split as training splits it."""
    from services.training.readmission_splits import split_readmission

    return split_readmission(small_frame, initial_share=training_settings.initial_share, seed=7)


@pytest.fixture
def model_name() -> str:
    """A registered-model name no other test uses."""
    return f"readmission-{uuid.uuid4().hex[:8]}"

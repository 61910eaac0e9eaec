"""Fixtures for API tests: one app over the read-only session corpus, real database and model."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.core.database import Database
from services.serving.app import create_app
from services.serving.settings import ServingSettings


@pytest.fixture(scope="session")
def serving_settings(tmp_path_factory: pytest.TempPathFactory) -> ServingSettings:
    """Serving settings for tests: defaults, with a small max_top_k to test the bound, and an
    empty home, so no MLflow store (and no registered model) of a local demo leaks in."""
    home = tmp_path_factory.mktemp("serving-home")
    return ServingSettings(max_top_k=50, home=home, mlflow_tracking_uri=local_store_uri(home))


@pytest.fixture(scope="session")
def corpus_db(jobs_database_url: str) -> Iterator[Database]:
    """A pool on the session corpus database (read-only)."""
    database = Database(jobs_database_url, min_size=1, max_size=4, timeout=5.0)
    yield database
    database.close()


@pytest.fixture(scope="session")
def client(serving_settings, corpus_db, encoder) -> Iterator[TestClient]:
    """A TestClient with the lifespan run, over the session corpus."""
    app = create_app(serving_settings, database=corpus_db, encoder=encoder)
    with TestClient(app) as test_client:
        yield test_client


# --- registry-backed models: a real MLflow store in a temporary folder, real scikit-learn ---


def local_store_uri(home: Path) -> str:
    """The local MLflow store of a Beacon home (what an unset MLFLOW_TRACKING_URI means)."""
    return f"sqlite:///{home.resolve() / 'mlflow' / 'mlflow.db'}"


def _forget_exported_tracking_uri() -> None:
    # mlflow.set_tracking_uri() exports MLFLOW_TRACKING_URI into os.environ, so settings built
    # after any registration would silently point at that test's store instead of their own.
    os.environ.pop("MLFLOW_TRACKING_URI", None)


@dataclass
class ModelStore:
    """A Beacon home whose local MLflow store the tests register models into."""

    home: Path

    @property
    def training(self):
        from services.training.settings import TrainingSettings

        _forget_exported_tracking_uri()
        return TrainingSettings(home=self.home)

    def serving(self, **overrides) -> ServingSettings:
        """API settings on this store."""
        _forget_exported_tracking_uri()
        # The plain test databases carry no migrations: no prediction_log table to write to.
        return ServingSettings(home=self.home, **{"prediction_log": False, **overrides})

    def register(
        self,
        model,
        name: str = "readmission",
        *,
        threshold: float = 0.5,
        promote: bool = True,
        metrics: dict[str, float] | None = None,
    ) -> str:
        """Register `model` (its input example: the schema's example record) and, by default,
        point the champion alias at it; returns the version."""
        from services.mlops.registry import promote as promote_version
        from services.mlops.registry import register_model

        version = str(
            register_model(
                name,
                model,
                readmission_example(),
                threshold=threshold,
                family="logreg",
                metrics=metrics or {"test_roc_auc": 0.7, "test_pr_auc": 0.2, "test_brier": 0.09},
                settings=self.training,
            ).version
        )
        if promote:
            promote_version(name, self.training, version)
        return version


def readmission_example():
    """The schema's example encounter as a one-row frame."""
    import pandas as pd

    from services.training.readmission_schema import EXAMPLE_RECORD, FEATURE_COLUMNS

    return pd.DataFrame([EXAMPLE_RECORD], columns=FEATURE_COLUMNS)


def fit_readmission(rows: int = 3000, seed: int = 5, c: float = 1.0):
    """The training side's real pipeline (features + one-hot) with a small logistic regression."""
    from sklearn.linear_model import LogisticRegression

    from services.training.features import build_preprocessor, model_pipeline
    from services.training.readmission_schema import FEATURE_COLUMNS, TARGET_COLUMN, to_target
    from services.training.readmission_synthetic import generate_readmission

    frame = generate_readmission(rows, seed=seed)
    model = model_pipeline(build_preprocessor(), LogisticRegression(C=c, max_iter=300))
    return model.fit(frame[FEATURE_COLUMNS], to_target(frame[TARGET_COLUMN]))


@pytest.fixture(scope="session")
def readmission_model():
    """A fitted readmission pipeline, shared by the session."""
    return fit_readmission()


@pytest.fixture
def model_store() -> Iterator[ModelStore]:
    """An empty Beacon home (no MLflow store yet) for one test."""
    home = Path(tempfile.mkdtemp(prefix="beacon-models-"))
    yield ModelStore(home)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def champion_store(readmission_model) -> Iterator[ModelStore]:
    """A store whose `readmission` champion is version 1 (threshold 0.2); shared read-only."""
    home = Path(tempfile.mkdtemp(prefix="beacon-models-"))
    store = ModelStore(home)
    store.register(readmission_model, threshold=0.2)
    yield store
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def plain_db(pg_admin_url: str) -> Iterator[Database]:
    """A pool on the test server's `postgres` database: for APIs that never query documents."""
    database = Database(pg_admin_url, min_size=1, max_size=2, timeout=5.0)
    yield database
    database.close()

"""Fixtures of the drift tests: one trained champion on a private MLflow store and database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

MODEL = "readmission"


@pytest.fixture(scope="session")
def drift_database_url(pg_admin_url: str) -> Iterator[str]:
    """A migrated database for the drift tests (Optuna studies, prediction log)."""
    from tests.helpers import temporary_database

    with temporary_database(pg_admin_url) as url:
        yield url


@pytest.fixture(scope="session")
def drift_settings(tmp_path_factory: pytest.TempPathFactory, drift_database_url: str):
    """Small, fast settings: 20,000 encounters, 8 later batches of 2,000, logistic regression."""
    from services.drift.settings import DriftSettings

    os.environ.pop("MLFLOW_TRACKING_URI", None)  # mlflow exports it; other modules' stores
    home: Path = tmp_path_factory.mktemp("drift-home")
    return DriftSettings(
        home=home,
        database_url=drift_database_url,
        readmission_rows=20_000,
        hpo_trials=2,
        hpo_families="logreg",
        simulate_families="logreg",
        simulate_trials=2,
        train_threads=1,
    )


@pytest.fixture(scope="session")
def champion(drift_settings, drift_database_url):
    """A `readmission` champion trained on the oldest 20 % of the generated data."""
    from services.training.readmission_synthetic import generate_readmission
    from services.training.train import train_readmission

    frame = generate_readmission(drift_settings.readmission_rows, seed=drift_settings.seed)
    outcome = train_readmission(
        drift_settings,
        database_url=drift_database_url,
        frame=frame,
        run_id="drift-tests",
        model_name=MODEL,
    )
    assert outcome.promoted is not None, [g.report() for g in outcome.gates]
    return outcome


@pytest.fixture(scope="session")
def reference(drift_settings, champion):
    """The champion and its logged reference rows."""
    from services.drift.reference import load_reference

    return load_reference(MODEL, drift_settings, "champion")


def scenario_batches(settings, scenario: str):
    """The later batches of the settings' data under a named drift scenario."""
    from services.drift.batches import generated_batches

    return generated_batches(settings.model_copy(update={"drift_scenario": scenario}))

"""Fixtures of the pipeline tests: the Airflow venv and private Beacon homes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test modules import their helpers from pipelines_support next to this file.
sys.path.insert(0, str(Path(__file__).parent))

from pipelines_support import ensure_airflow_venv


@pytest.fixture(scope="session")
def airflow_python() -> Path:
    """The Airflow 3.0.6 venv's python (created by `make airflow-venv` when missing)."""
    return ensure_airflow_venv()

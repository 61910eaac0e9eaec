"""Runs Beacon's DAGs in the separate Airflow venv, the way `make pipeline` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "pipelines" / "dags"
AIRFLOW_VENV = REPO / ".venv-airflow"
AIRFLOW_PYTHON = AIRFLOW_VENV / "bin" / "python"
BEACON_CLI = Path(sys.executable).parent / "beacon"
# Settings of the test process that must not reach the DAGs' `beacon` subprocesses: each test
# module gets embedded defaults under its own home.
LEAKY_PREFIXES = ("BEACON_", "AIRFLOW", "MLFLOW_", "DATABASE_URL")


def ensure_airflow_venv() -> Path:
    """The Airflow venv's python, created with the Makefile's recipe if missing."""
    if not (AIRFLOW_VENV / ".installed").exists():
        subprocess.run(
            ["make", "--no-print-directory", "airflow-venv"],
            cwd=REPO,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return AIRFLOW_PYTHON


def airflow_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment of one Airflow process: its own SQLite home, embedded Beacon defaults."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(LEAKY_PREFIXES)}
    env.update(
        AIRFLOW_HOME=str(home / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__BEACON__CLI=str(BEACON_CLI),
        AIRFLOW__BEACON__STORAGE_URI=str(home / "storage"),
        PYTHONPATH=str(DAGS),
        BEACON_HOME=str(home),
        BEACON_LOG_FORMAT="text",
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    env.update(extra)
    return env


def run_airflow(
    args: list[str], home: Path, *, timeout: float = 600, **extra: str
) -> subprocess.CompletedProcess[str]:
    """`python -m beacon_pipelines.run <args>` in the Airflow venv; output kept for asserts."""
    (home / "airflow").mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [str(ensure_airflow_venv()), "-m", "beacon_pipelines.run", *args],
        env=airflow_env(home, **extra),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def last_json(output: str) -> dict[str, Any]:
    """The JSON summary line `beacon_pipelines.run test` prints last."""
    for line in reversed(output.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError(f"no JSON summary in output:\n{output[-3000:]}")


def dag_test(
    dag_id: str, home: Path, logical_date: str, conf: dict[str, Any] | None = None, **extra: str
) -> tuple[dict[str, Any], str]:
    """Run one DAG with dag.test(); (summary, full output)."""
    args = ["test", dag_id, "--logical-date", logical_date, "--conf", json.dumps(conf or {})]
    done = run_airflow(args, home, **extra)
    output = done.stdout + done.stderr
    return last_json(done.stdout), output

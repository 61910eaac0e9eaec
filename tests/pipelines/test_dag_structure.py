"""Every DAG imports cleanly in real Airflow 3.0.6 and follows the platform's conventions."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from pipelines_support import DAGS, REPO, last_json, run_airflow

DAG_IDS = {"nightly_embedding_refresh", "training_pipeline", "monitoring_retraining"}
# What a DAG file may import while Airflow parses it: no ML stack, no Beacon services.
PARSE_TIME_ALLOWED = re.compile(r"^(__future__|airflow|beacon_pipelines|datetime|typing|json|re)\b")


@pytest.fixture(scope="module")
def bag(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("airflow-inspect")
    done = run_airflow(["inspect"], home, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return last_json(done.stdout)


def test_dagbag_imports_every_dag_without_errors(bag: dict[str, Any]) -> None:
    assert bag["import_errors"] == {}
    assert set(bag["dags"]) == DAG_IDS


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_dag_has_owner_tags_schedule_doc_and_no_catchup(bag: dict[str, Any], dag_id: str) -> None:
    dag = bag["dags"][dag_id]
    assert dag["owner"] == "beacon-ml-platform"
    assert "beacon" in dag["tags"] and len(dag["tags"]) >= 2
    assert dag["catchup"] is False
    assert dag["schedule"] not in ("", "None", None)
    assert len(dag["doc"]) > 200 and "beacon" in dag["doc"]
    assert Path(dag["fileloc"]).name == f"{dag_id}.py"  # one DAG per file, named after it


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_every_task_retries_and_reports_failures(bag: dict[str, Any], dag_id: str) -> None:
    tasks = bag["dags"][dag_id]["tasks"]
    assert tasks
    for task_id, task in tasks.items():
        assert task["retries"] >= 2, task_id
        assert task["has_failure_callback"], task_id


def test_schedules_match_the_issue(bag: dict[str, Any]) -> None:
    dags = bag["dags"]
    assert dags["nightly_embedding_refresh"]["schedule"] == "0 2 * * *"
    assert dags["training_pipeline"]["schedule"] == "0 3 * * 0"
    assert dags["monitoring_retraining"]["schedule"].startswith("0 ")
    assert {"run_id", "data", "trials", "families"} <= set(dags["training_pipeline"]["params"])


def test_training_stages_are_tasks_in_order(bag: dict[str, Any]) -> None:
    tasks = bag["dags"]["training_pipeline"]["tasks"]
    chain = ["ingest", "validate_data", "train_hpo", "register_challenger", "promote", "notify"]
    for before, after in itertools.pairwise(chain):
        assert tasks[after]["upstream"] == [before]
    assert all(tasks[t]["operator"] == "BeaconCommandOperator" for t in chain[:-1])


def test_commands_carry_the_partition(tmp_path: Path) -> None:
    done = run_airflow(["render", "--logical-date", "2026-11-22T03:00:00"], tmp_path, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    rendered = last_json(done.stdout)
    refresh = rendered["nightly_embedding_refresh.refresh"]["arguments"]
    assert refresh[:2] == ["embed", "refresh"]
    assert refresh[3] == f"{tmp_path / 'storage'}/incoming/jobs/dt=2026-11-21"
    train = rendered["training_pipeline.train_hpo"]["arguments"]
    assert train[train.index("--run-id") + 1] == "20261122T0300"
    snapshot = train[train.index("--data") + 1]
    assert snapshot.endswith("/training/readmission/20261122T0300/diabetic_data.csv")
    promote = rendered["training_pipeline.promote"]["arguments"]
    assert promote[:4] == ["model", "promote", "readmission", "--if-better"]


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names = []
    for node in tree.body:  # module level only: what runs while Airflow parses the file
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append(node.module or "")
    return names


@pytest.mark.parametrize("path", sorted(DAGS.rglob("*.py")), ids=lambda p: p.name)
def test_no_heavy_library_is_imported_at_parse_time(path: Path) -> None:
    heavy = [n for n in _imports(path) if not PARSE_TIME_ALLOWED.match(n)]
    stdlib = {"argparse", "sys", "pathlib", "types", "shlex", "subprocess", "logging", "functools"}
    stdlib |= {"collections.abc", "urllib.parse"}
    assert [n for n in heavy if n not in stdlib] == []


def test_requirements_pin_mwaa_constraints_and_local_venv_matches() -> None:
    mwaa = (REPO / "pipelines" / "requirements.txt").read_text().splitlines()
    local = (REPO / "pipelines" / "requirements-local.txt").read_text().splitlines()
    assert any("constraints-3.0.6/constraints-3.11.txt" in line for line in mwaa)
    packages = [ln.strip() for ln in mwaa if ln.strip() and not ln.startswith(("#", "--"))]
    assert packages and set(packages) <= {ln.strip() for ln in local}
    assert "apache-airflow==3.0.6" in local

"""The gate exit code is one value, and the DAGs' mirror of it agrees."""

from __future__ import annotations

import ast
from pathlib import Path

from services.mlops.gates import GATE_FAILED, Check, make_gate

EXECUTOR = Path(__file__).parents[3] / "pipelines/dags/beacon_pipelines/executor.py"


def test_dag_executor_mirrors_the_gate_exit_code():
    tree = ast.parse(EXECUTOR.read_text())
    values = [
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", "") == "GATE_FAILED" for t in node.targets)
    ]
    assert values == [GATE_FAILED]


def test_no_service_module_defines_its_own_gate_exit_code():
    services = Path(__file__).parents[3] / "services"
    owners = [
        str(path.relative_to(services))
        for path in services.rglob("*.py")
        if "\nGATE_FAILED =" in path.read_text()
    ]
    assert owners == ["mlops/gates.py"]


def test_a_gate_passes_only_when_every_check_passed():
    assert make_gate("g", [Check("a", True, "")], "s").passed
    assert not make_gate("g", [Check("a", True, ""), Check("b", False, "")], "s").passed

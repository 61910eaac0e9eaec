"""Dockerfiles: hadolint-clean, multi-stage, pinned, non-root, offline model, consistent context."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER = REPO_ROOT / "docker"
DOCKERFILES = sorted(DOCKER.glob("*.Dockerfile"))
HADOLINT = Path(sys.executable).parent / "hadolint"
CONSTRAINTS = DOCKER / "constraints.txt"
# Groups the images install (infra and dev stay out of every image).
IMAGE_GROUPS = ("embeddings", "serving", "training", "lambdas")


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def final_stage(path: Path) -> list[tuple[str, str]]:
    """Instructions of the last stage (the image that ships)."""
    steps = instructions(path)
    last_from = max(i for i, (k, _) in enumerate(steps) if k == "FROM")
    return steps[last_from:]


def hadolint(path: Path) -> list[dict[str, object]]:
    run = subprocess.run(
        [str(HADOLINT), "--format", "json", "--no-fail", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout or "[]")


def test_there_is_one_dockerfile_per_deployable() -> None:
    assert {p.name for p in DOCKERFILES} == {
        "serving.Dockerfile",
        "processing.Dockerfile",
        "lambda.Dockerfile",
    }


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_reports_nothing(path: Path) -> None:
    assert hadolint(path) == []


def test_hadolint_really_lints(tmp_path: Path) -> None:
    bad = tmp_path / "bad.Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\nUSER root\n")
    codes = {finding["code"] for finding in hadolint(bad)}
    assert {"DL3007", "DL3013", "DL3002"} <= codes


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_multi_stage_slim_pinned_non_root(path: Path) -> None:
    steps = instructions(path)
    assert sum(k == "FROM" for k, _ in steps) >= 2, "a build stage and a runtime stage"
    base = next(rest for k, rest in steps if k == "ARG" and rest.startswith("PYTHON_IMAGE="))
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+", base), base
    final = final_stage(path)
    users = [rest for k, rest in final if k == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root"), users
    env = " ".join(rest for k, rest in final if k == "ENV")
    assert "HF_HUB_OFFLINE=1" in env and "TRANSFORMERS_OFFLINE=1" in env
    # Build tools and sources stay in the build stage: only the venv (and data) is copied.
    copies = [rest for k, rest in final if k == "COPY"]
    assert all(c.startswith("--from=build") or c.startswith("pipelines ") for c in copies), copies
    installs = [rest for k, rest in steps if k == "RUN" and "pip install" in rest]
    project_installs = [r for r in installs if '".[${EXTRAS}]"' in r]
    assert project_installs, "the project installs one dependency group per image"
    assert all("--constraint /tmp/constraints.txt" in r for r in project_installs)
    for line in installs:
        for spec in re.findall(r"\b(torch|awslambdaric)(\S*)", line):
            assert spec[1].startswith("=="), f"unpinned {spec[0]} in {path.name}"


def test_serving_image_has_a_healthcheck_on_the_api_port() -> None:
    final = final_stage(DOCKER / "serving.Dockerfile")
    (check,) = [rest for k, rest in final if k == "HEALTHCHECK"]
    assert "http://127.0.0.1:8000/health" in check
    assert ("EXPOSE", "8000") in final
    # `beacon serve` reads BEACON_WORKERS (one uvicorn worker per vCPU, set by the CDK app);
    # a bare `uvicorn` CMD would ignore it and run one worker per task.
    assert ("CMD", '["beacon", "serve"]') in final


@pytest.mark.parametrize("name", ["serving.Dockerfile", "processing.Dockerfile"])
def test_images_that_embed_export_the_encoder_at_build_time(name: str) -> None:
    build = " ".join(rest for k, rest in instructions(DOCKER / name) if k == "RUN")
    assert "beacon embed prepare" in build
    # The exported model (with the RDS CA bundle beside it) travels to the runtime stage, and
    # the runtime looks for it there.
    final = final_stage(DOCKER / name)
    assert ("COPY", "--from=build /opt/beacon /opt/beacon") in final
    env = " ".join(rest for k, rest in final if k == "ENV")
    assert "BEACON_EMBEDDING_CACHE_DIR=/opt/beacon/models" in env


def test_extras_defaults_match_the_deployables() -> None:
    def extras(name: str) -> str:
        steps = instructions(DOCKER / name)
        return next(r for k, r in steps if k == "ARG" and r.startswith("EXTRAS=")).split("=")[1]

    assert extras("serving.Dockerfile") == "serving"
    assert extras("processing.Dockerfile") == "embeddings,training"
    assert extras("lambda.Dockerfile") == "lambdas"


def _literal(path: Path, name: str) -> object:
    """A module-level constant of `path`, read without importing it (infra imports aws_cdk)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found in {path}")


def test_infra_builds_the_dockerfiles_that_exist() -> None:
    sources = (REPO_ROOT / "infra").rglob("*.py")
    referenced = {m for p in sources for m in re.findall(r"[\w.-]+\.Dockerfile", p.read_text())}
    assert referenced, "infra/ names its Dockerfiles"
    assert referenced <= {p.name for p in DOCKERFILES}, referenced


def test_dockerignore_lets_in_what_the_cdk_assets_do() -> None:
    include = set(_literal(REPO_ROOT / "infra" / "images.py", "CONTEXT_INCLUDE"))  # type: ignore[arg-type]
    lines = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "an allow-list: everything is excluded first"
    assert {line[1:] for line in lines if line.startswith("!")} == include
    for copied in ("docker/constraints.txt", "services", "lambdas", "pipelines", "pyproject.toml"):
        assert copied.split("/")[0] in include


def _requirement_name(spec: str) -> str:
    return re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0].lower().replace("_", "-")


def test_constraints_pin_every_dependency_of_the_image_groups() -> None:
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version, f"not an exact pin: {line!r}"
            pins[name.lower().replace("_", "-")] = version
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for group in IMAGE_GROUPS:
        wanted += [s for s in project["optional-dependencies"][group] if "beacon-mlops" not in s]
    # torch is pinned in the Dockerfiles themselves (it comes from the CPU wheel index).
    missing = sorted({_requirement_name(s) for s in wanted} - set(pins) - {"torch"})
    assert missing == [], f"{missing} unpinned: run `make docker-constraints` in a tested .venv"

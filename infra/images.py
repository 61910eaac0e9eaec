"""Container image assets built from docker/*.Dockerfile with the repository root as context."""

from __future__ import annotations

import hashlib
from pathlib import Path

from aws_cdk import IgnoreMode
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICES_DIR = REPO_ROOT / "services"
PIPELINES_DIR = REPO_ROOT / "pipelines"
# The official CPU-only PyTorch wheel index, passed to the builds as a build argument.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# The build context is the repository root: only these paths may reach an image (and the
# asset hash), so a local .venv, cdk.out or data folder never slows synth or leaks in.
CONTEXT_INCLUDE = ("pyproject.toml", "README.md", "services", "lambdas", "pipelines", "docker")
EXCLUDE = [
    "*",
    *(f"!{p}" for p in CONTEXT_INCLUDE),
    "**/__pycache__",
    "**/*.pyc",
    "**/.pytest_cache",
]


def image_asset(
    scope: Construct,
    construct_id: str,
    *,
    dockerfile: str,
    build_args: dict[str, str] | None = None,
) -> ecr_assets.DockerImageAsset:
    """An image asset from docker/<dockerfile>, built at deploy time (synth needs no Docker)."""
    return ecr_assets.DockerImageAsset(
        scope,
        construct_id,
        directory=str(REPO_ROOT),
        file=f"docker/{dockerfile}",
        build_args={"TORCH_INDEX_URL": TORCH_CPU_INDEX, **(build_args or {})},
        platform=ecr_assets.Platform.LINUX_AMD64,
        exclude=EXCLUDE,
        ignore_mode=IgnoreMode.DOCKER,
    )


def lambda_code(*, handler: str, extras: str = "lambdas") -> lambda_.DockerImageCode:
    """Lambda code from docker/lambda.Dockerfile with `extras` installed, running `handler`."""
    return lambda_.DockerImageCode.from_image_asset(
        str(REPO_ROOT),
        file="docker/lambda.Dockerfile",
        build_args={"EXTRAS": extras, "TORCH_INDEX_URL": TORCH_CPU_INDEX},
        platform=ecr_assets.Platform.LINUX_AMD64,
        cmd=[handler],
        exclude=EXCLUDE,
        ignore_mode=IgnoreMode.DOCKER,
    )


def tree_fingerprint(folder: Path, pattern: str = "**/*") -> str:
    """SHA-256 over the names and contents of the files under `folder` matching `pattern`.

    Custom resources take it as a property so that CloudFormation re-runs them exactly when
    the files they deploy (migrations, DAGs) change.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.glob(pattern) if p.is_file()):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def migrations_fingerprint(services: Path = SERVICES_DIR) -> str:
    """SHA-256 over every package's SQL migrations (`services/*/migrations/*.sql`).

    Hashed by file name in version order, as the runner applies them: moving a file between
    packages leaves the value unchanged (and so does not re-run the bootstrap), editing or
    adding one changes it. Equal to `tree_fingerprint` of the one folder they used to share.
    """
    digest = hashlib.sha256()
    for path in sorted(services.glob("*/migrations/*.sql"), key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()

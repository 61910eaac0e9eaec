"""Mirrors pipelines/dags and pipelines/requirements.txt into the MWAA source bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DAGS_PREFIX = "dags/"
REQUIREMENTS_KEY = "requirements.txt"
SKIPPED_PARTS = {"__pycache__", ".pytest_cache"}


def local_dag_files(source_dir: Path) -> dict[str, Path]:
    """Object key -> file for every DAG file (placeholders like .gitkeep are skipped)."""
    dags = source_dir / "dags"
    files: dict[str, Path] = {}
    if not dags.is_dir():
        return files
    for path in sorted(dags.rglob("*")):
        relative = path.relative_to(dags)
        if not path.is_file() or SKIPPED_PARTS & set(relative.parts) or path.name == ".gitkeep":
            continue
        files[DAGS_PREFIX + relative.as_posix()] = path
    return files


def remote_dag_keys(s3: Any, bucket: str) -> set[str]:
    """Keys currently under dags/."""
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=DAGS_PREFIX):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def sync(s3: Any, bucket: str, source_dir: Path) -> dict[str, str]:
    """Upload DAGs and requirements, delete DAGs removed from the repository.

    Returns the requirements object version: MWAA installs requirements by version, so
    a new version in the template is what makes it reinstall them.
    """
    requirements = source_dir / REQUIREMENTS_KEY
    if not requirements.is_file():
        raise FileNotFoundError(f"{requirements} is missing: MWAA needs a requirements file")
    local = local_dag_files(source_dir)
    for key, path in local.items():
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    stale = sorted(remote_dag_keys(s3, bucket) - set(local))
    for key in stale:
        s3.delete_object(Bucket=bucket, Key=key)
    put = s3.put_object(Bucket=bucket, Key=REQUIREMENTS_KEY, Body=requirements.read_bytes())
    return {
        "RequirementsVersion": put.get("VersionId") or "null",
        "DagCount": str(len(local)),
        "Deleted": str(len(stale)),
    }

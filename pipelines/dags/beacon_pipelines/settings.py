"""Every name the DAGs read from Airflow's configuration, section `[beacon]`.

In MWAA the CDK app sets them as `beacon.<name>` configuration options (Orchestration); locally
they come from AIRFLOW__BEACON__<NAME> variables (pipelines/pipelines.mk, tests) or fallbacks.
Nothing else is read: no Airflow Variables, no connections (AWS calls use the worker's role).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SECTION = "beacon"
# Set by the CDK app (infra/constructs/orchestration.py); tests/pipelines checks the contract.
AWS_OPTIONS = (
    "env",
    "region",
    "processing_image_uri",
    "processing_role_arn",
    "processing_instance_type",
    "processing_volume_kms_key_id",
    "refresh_instance_count",
    "hpo_instance_count",
    "refresh_workers",
    "processing_job_name_prefix",
    "processing_subnet_ids",
    "processing_security_group_ids",
    "processing_environment",
    "mlflow_tracking_uri",
    "event_source",
    "event_detail_type",
)
# Local runs only: the project's `beacon` executable and the storage root it uses.
LOCAL_OPTIONS = ("cli", "storage_uri")
# Scale-out, optional everywhere (1 when unset): Processing instances per sharded job
# (infra/config.py `refresh_instance_count`, `hpo_instance_count`); local runs start as many
# processes. `refresh_workers` is `embed refresh --workers` on each of them (a count or auto).
SCALE_OPTIONS = ("refresh_instance_count", "hpo_instance_count", "refresh_workers")
REPO_ROOT = Path(__file__).resolve().parents[3]


def option(name: str, fallback: str | None = None) -> str | None:
    """One `[beacon]` option; only declared names may be read (the contract test relies on it)."""
    if name not in AWS_OPTIONS + LOCAL_OPTIONS + SCALE_OPTIONS:
        raise KeyError(
            f"undeclared pipeline option {name!r}: add it to AWS_OPTIONS or LOCAL_OPTIONS"
        )
    from airflow.configuration import conf

    return conf.get(SECTION, name, fallback=fallback)


def required(name: str) -> str:
    """An option that must be set (in AWS mode every AWS option is)."""
    value = option(name)
    if not value:
        raise RuntimeError(f"Airflow configuration option {SECTION}.{name} is not set")
    return value


def json_option(name: str) -> Any:
    """An option holding JSON (lists of subnet ids, the processing environment)."""
    return json.loads(required(name))


def instance_count(name: str) -> int:
    """A SCALE_OPTIONS count: a whole number >= 1 (1 when unset)."""
    return int(_scale_option(name, "1", auto=False))


def workers_option(name: str) -> str | None:
    """A SCALE_OPTIONS process count per instance: auto or a whole number >= 1; None when unset."""
    return _scale_option(name, "", auto=True) or None


def _scale_option(name: str, unset: str, *, auto: bool) -> str:
    """A SCALE_OPTIONS value: a whole number >= 1 (or `auto` where allowed), `unset` if unset."""
    if name not in SCALE_OPTIONS:
        raise KeyError(f"{name!r} is not one of {SCALE_OPTIONS}")
    text = (option(name) or unset).strip()
    valid = (text.isdigit() and int(text) >= 1) or (auto and text == "auto") or text == unset
    if not valid:
        allowed = "auto or >= 1" if auto else ">= 1"
        raise RuntimeError(
            f"Airflow configuration option {SECTION}.{name} must be {allowed}: {text!r}"
        )
    return text


@cache
def in_aws() -> bool:
    """AWS mode when the CDK app told Airflow which processing image to run."""
    return bool(option("processing_image_uri"))


def beacon_cli() -> str:
    """The local `beacon` executable: the project's .venv unless configured."""
    return option("cli") or str(REPO_ROOT / ".venv" / "bin" / "beacon")


def storage_root() -> str:
    """Beacon's storage root: the processing jobs' BEACON_STORAGE_URI in AWS."""
    if in_aws():
        return str(json_option("processing_environment")["BEACON_STORAGE_URI"]).rstrip("/")
    return (option("storage_uri") or str(REPO_ROOT / ".beacon" / "storage")).rstrip("/")

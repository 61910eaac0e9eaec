"""What every Beacon DAG shares: owner, retries, callbacks, and the partition macros."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from beacon_pipelines.executor import job_name
from beacon_pipelines.notify import on_task_failure

OWNER = "beacon-ml-platform"
DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "on_failure_callback": on_task_failure,
}


def partition(dag_run: Any, params: Any = None) -> str:
    """The run's partition, used as Beacon run id: `params.run_id` if given, else its date-time.

    A rerun of the same DAG run (cleared tasks, retries) gets the same partition, so every
    `beacon` command it runs resumes or overwrites rather than duplicates.
    """
    given = (params or {}).get("run_id")
    if given:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", str(given)):
            raise ValueError("params.run_id may hold letters, digits, '.', '_' and '-' only")
        return str(given)
    when = (
        getattr(dag_run, "data_interval_start", None)
        or getattr(dag_run, "logical_date", None)
        or dag_run.run_after
    )
    return when.strftime("%Y%m%dT%H%M")


MACROS: dict[str, Any] = {"partition": partition, "job_name": job_name}


def dag_kwargs(doc: str, tags: list[str]) -> dict[str, Any]:
    """Keyword arguments every Beacon DAG passes to `DAG(...)`."""
    return {
        "default_args": DEFAULT_ARGS,
        "catchup": False,
        "max_active_runs": 1,  # Beacon jobs hold advisory locks; a second run would just wait
        "doc_md": doc,
        "tags": ["beacon", *tags],
        "user_defined_macros": MACROS,
    }

"""Pipeline notifications: an EventBridge event for the notifier Lambda in AWS, a log line here."""

from __future__ import annotations

import json
import logging
from typing import Any

from beacon_pipelines import settings

log = logging.getLogger("beacon.pipelines")


def event_detail(context: Any, state: str, message: str) -> dict[str, Any]:
    """The detail the notifier reads (lambdas/notifier/messages.py: from_event)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    return {
        "dag_id": getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", "?"),
        "run_id": getattr(dag_run, "run_id", None) or getattr(ti, "run_id", "?"),
        "task_id": getattr(ti, "task_id", None),
        "state": state,
        "message": message[:1000],
    }


def send(context: Any, state: str, message: str) -> dict[str, Any]:
    """Publish one pipeline event; returns its detail (tests and logs show it)."""
    detail = event_detail(context, state, message)
    log.info("pipeline event %s", json.dumps(detail, sort_keys=True))
    if settings.in_aws():
        import boto3

        events = boto3.client("events", region_name=settings.required("region"))
        response = events.put_events(
            Entries=[
                {
                    "Source": settings.required("event_source"),
                    "DetailType": settings.required("event_detail_type"),
                    "Detail": json.dumps(detail),
                }
            ]
        )
        if response.get("FailedEntryCount"):
            log.error("EventBridge refused the pipeline event: %s", response["Entries"])
    return detail


def on_task_failure(context: Any) -> None:
    """Task callback after the last retry: people hear which task failed and why."""
    error = context.get("exception")
    send(context, "failed", f"{type(error).__name__}: {error}" if error else "task failed")

"""Turns alarm notifications and pipeline events into one short, human-readable shape."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

Kind = Literal["alarm", "processing_job", "pipeline", "unknown"]
SUBJECT_LIMIT = 100  # SNS rejects longer subjects


@dataclass(frozen=True)
class Notification:
    """What people see; `failed` drives the failure metrics."""

    kind: Kind
    subject: str
    message: str
    failed: bool
    details: dict[str, Any]

    def as_json(self) -> str:
        """The webhook payload."""
        return json.dumps(asdict(self), default=str)


def _subject(env: str, text: str) -> str:
    subject = f"[beacon {env}] {text}"
    return subject if len(subject) <= SUBJECT_LIMIT else subject[: SUBJECT_LIMIT - 1] + "…"


def from_alarm(env: str, alarm: dict[str, Any]) -> Notification:
    """A CloudWatch alarm state change delivered through SNS."""
    name = alarm.get("AlarmName", "unknown alarm")
    state = alarm.get("NewStateValue", "UNKNOWN")
    reason = alarm.get("NewStateReason", "")
    return Notification(
        kind="alarm",
        subject=_subject(env, f"{state}: {name}"),
        message=f"Alarm {name} is {state}.\n{reason}",
        failed=False,
        details={"alarm": name, "state": state},
    )


def from_event(env: str, event: dict[str, Any]) -> Notification:
    """An EventBridge event: SageMaker Processing job state, or a DAG callback."""
    detail = event.get("detail", {}) or {}
    detail_type = event.get("detail-type", "")
    if detail_type == "SageMaker Processing Job State Change":
        name = detail.get("ProcessingJobName", "?")
        status = detail.get("ProcessingJobStatus", "?")
        reason = detail.get("FailureReason") or detail.get("ExitMessage") or ""
        return Notification(
            kind="processing_job",
            subject=_subject(env, f"processing job {status}: {name}"),
            message=f"SageMaker Processing job {name} is {status}. {reason}".strip(),
            failed=status == "Failed",
            details={"job": name, "status": status},
        )
    if event.get("source") == "beacon.pipelines":
        dag = detail.get("dag_id", "?")
        state = str(detail.get("state", "?"))
        text = detail.get("message", "")
        task = detail.get("task_id")
        where = f"{dag}.{task}" if task else dag
        return Notification(
            kind="pipeline",
            subject=_subject(env, f"DAG {state}: {where}"),
            message=f"Airflow DAG {dag} run {detail.get('run_id', '?')} is {state}. {text}".strip(),
            failed=state.lower() == "failed",
            details={"dag_id": dag, "run_id": detail.get("run_id"), "state": state},
        )
    return Notification(
        kind="unknown",
        subject=_subject(env, detail_type or "event"),
        message=json.dumps(event, default=str)[:2000],
        failed=False,
        details={},
    )


def parse(env: str, event: dict[str, Any]) -> list[Notification]:
    """Notifications in a Lambda event (SNS batch of alarms, or one EventBridge event)."""
    records = event.get("Records")
    if records:
        notes = []
        for record in records:
            body = record.get("Sns", {}).get("Message", "{}")
            try:
                alarm = json.loads(body)
            except json.JSONDecodeError:
                alarm = {"AlarmName": "unparsed SNS message", "NewStateReason": body}
            notes.append(from_alarm(env, alarm))
        return notes
    return [from_event(env, event)]

"""Lambda handler: publish each notification to SNS and, if configured, to a webhook."""

from __future__ import annotations

import json
import urllib.request
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.notifier.messages import Notification, parse
from lambdas.notifier.settings import NotifierSettings

logger = Logger(service="beacon-notifier")
tracer = Tracer(service="beacon-notifier")
metrics = Metrics(service="beacon-notifier")
# Counter names documented in docs/infrastructure.md (dashboard and alarms read them).
FAILURE_METRICS = {"processing_job": "ProcessingJobFailures", "pipeline": "PipelineFailures"}


@lru_cache(maxsize=1)
def get_settings() -> NotifierSettings:
    """Settings, read once per container."""
    return NotifierSettings()


@lru_cache(maxsize=4)
def webhook_url(secret_id: str) -> str:
    """The webhook URL from Secrets Manager (plain string, or JSON with a `url` field)."""
    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    try:
        return str(json.loads(value)["url"])
    except (json.JSONDecodeError, KeyError, TypeError):
        return value.strip()


def post_webhook(url: str, note: Notification, timeout_s: float) -> None:
    """POST the notification as JSON."""
    if not url.startswith("https://"):
        raise ValueError("webhook URLs must use https")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=note.as_json().encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
        response.read()


def deliver(note: Notification, settings: NotifierSettings, sns: Any) -> None:
    """SNS first (people must hear about it); a failing webhook is logged and counted."""
    sns.publish(TopicArn=settings.topic_arn, Subject=note.subject, Message=note.message)
    if note.failed and note.kind in FAILURE_METRICS:
        metrics.add_metric(name=FAILURE_METRICS[note.kind], unit=MetricUnit.Count, value=1)
    if settings.webhook_secret_id:
        try:
            post_webhook(webhook_url(settings.webhook_secret_id), note, settings.webhook_timeout_s)
        except Exception:
            logger.exception("webhook delivery failed", extra={"subject": note.subject})
            metrics.add_metric(name="WebhookFailures", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Entry point for SNS (alarms) and EventBridge (jobs, DAGs)."""
    settings = get_settings()
    metrics.namespace = settings.metrics_namespace
    sns = boto3.client("sns")
    notes = parse(settings.env, event)
    try:
        for note in notes:
            deliver(note, settings, sns)
            logger.info("notified", extra={"kind": note.kind, "subject": note.subject})
    finally:
        metrics.flush_metrics()
    return {"delivered": len(notes)}

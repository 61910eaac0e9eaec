"""Custom-resource handler: deploy pipelines/ to MWAA's bucket on every change of its files."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.common import cfn_response
from lambdas.dag_sync.settings import DagSyncSettings
from lambdas.dag_sync.sync import sync

logger = Logger(service="beacon-dag-sync")
tracer = Tracer(service="beacon-dag-sync")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    """Create/Update sync the bucket; Delete leaves it to the bucket's own removal policy."""
    physical_id = event.get("PhysicalResourceId") or "beacon-dag-sync"
    try:
        data: dict[str, str] = {}
        if event["RequestType"] in ("Create", "Update"):
            settings = DagSyncSettings()
            data = sync(boto3.client("s3"), settings.bucket, settings.source_dir)
            logger.info("pipelines synced", extra=data)
        cfn_response.send(event, status="SUCCESS", physical_id=physical_id, data=data)
    except Exception as error:
        logger.exception("dag sync failed")
        cfn_response.send(
            event,
            status="FAILED",
            physical_id=physical_id,
            reason=f"{type(error).__name__}: {error}",
        )

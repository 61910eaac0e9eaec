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

    def on_change() -> dict[str, str]:
        settings = DagSyncSettings()
        data = sync(boto3.client("s3"), settings.bucket, settings.source_dir)
        logger.info("pipelines synced", extra=data)
        return data

    cfn_response.answer(
        event,
        default_physical_id="beacon-dag-sync",
        on_change=on_change,
        logger=logger,
        failure="dag sync failed",
    )

"""Lambda handler: services.serving.app:create_app behind API Gateway, through Mangum."""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

APP_FACTORY = "services.serving.app:create_app"

logger = Logger(service="beacon-api")
tracer = Tracer(service="beacon-api")
metrics = Metrics(service="beacon-api")


@lru_cache(maxsize=1)
def get_adapter() -> Mangum:
    """Build the app once per container (model loading happens here, on the cold start)."""
    module_name, factory = APP_FACTORY.split(":")
    app = getattr(importlib.import_module(module_name), factory)()
    metrics.add_metric(name="ColdStarts", unit=MetricUnit.Count, value=1)
    return Mangum(app, lifespan="auto")


def _namespace() -> str:
    from services.serving.settings import get_serving_settings

    return f"Beacon/{get_serving_settings().env}"


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Entry point: one API Gateway proxy event in, one HTTP response out."""
    metrics.namespace = _namespace()
    try:
        return get_adapter()(event, context)
    finally:
        metrics.flush_metrics()

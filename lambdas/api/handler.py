"""Lambda handler: services.serving.app:create_app behind API Gateway, through Mangum."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum
from mangum.protocols.lifespan import LifespanCycle

APP_FACTORY = "services.serving.app:create_app"

logger = Logger(service="beacon-api")
tracer = Tracer(service="beacon-api")
metrics = Metrics(service="beacon-api")


@dataclass
class Container:
    """What one Lambda container builds once: the app, its started lifespan, the adapter."""

    app: Any
    adapter: Mangum
    lifespan: LifespanCycle

    def close(self) -> None:
        """Run the app's shutdown (tests; a real container is frozen, then discarded)."""
        self.lifespan.__exit__(None, None, None)


@lru_cache(maxsize=1)
def get_container() -> Container:
    """Build the app and run its startup once per container (database pool, migrations,
    encoder, registry models): the cold start pays for them, warm invocations reuse them.

    Mangum would drive the lifespan on every invocation (`lifespan="auto"`), re-opening the
    pool and reloading models per call; here it only adapts events (`lifespan="off"`) and the
    one startup runs on the same event loop Mangum uses for every request. A failed startup
    raises and is not cached: the next invocation tries again.
    """
    module_name, factory = APP_FACTORY.split(":")
    app = getattr(importlib.import_module(module_name), factory)()
    adapter = Mangum(app, lifespan="off")  # sets up the container's event loop first
    lifespan = LifespanCycle(app, "on")
    lifespan.__enter__()
    metrics.add_metric(name="ColdStarts", unit=MetricUnit.Count, value=1)
    return Container(app=app, adapter=adapter, lifespan=lifespan)


def get_adapter() -> Mangum:
    """The container's Mangum adapter (built on the first call)."""
    return get_container().adapter


def reset() -> None:
    """Shut the container's app down and forget it (tests)."""
    if get_container.cache_info().currsize:
        get_container().close()
    get_container.cache_clear()


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

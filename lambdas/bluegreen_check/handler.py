"""Lambda handler: ECS calls it once test traffic reaches the green tasks."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.bluegreen_check.probe import attempt_of, probe, tls_context, verdict
from lambdas.bluegreen_check.settings import BlueGreenCheckSettings

logger = Logger(service="beacon-bluegreen-check")
tracer = Tracer(service="beacon-bluegreen-check")


@lru_cache(maxsize=1)
def get_settings() -> BlueGreenCheckSettings:
    """Settings, read once per container."""
    return BlueGreenCheckSettings()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Ask every configured route of the test listener; answer ECS's lifecycle hook contract."""
    try:
        settings = get_settings()
        attempt = attempt_of(event)
        tls = tls_context(settings.ca_bundle)
        probes = [
            probe(
                settings.test_url,
                path,
                server_name=settings.server_name,
                timeout_s=settings.timeout_s,
                context=tls,
            )
            for path in settings.paths
        ]
        result = verdict(
            probes,
            attempt=attempt,
            max_attempts=settings.max_attempts,
            retry_delay_s=settings.retry_delay_s,
        )
    except Exception:
        # ECS rolls back on an exception too; an explicit FAILED says why in the logs.
        logger.exception("blue/green check could not run")
        return {"hookStatus": "FAILED"}
    logger.info(
        "blue/green check",
        extra={
            "stage": event.get("lifecycleStage") if isinstance(event, dict) else None,
            "attempt": attempt,
            "status": result["hookStatus"],
            "probes": [p.__dict__ for p in probes],
        },
    )
    return result

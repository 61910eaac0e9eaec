"""The BEACON_* environment each runtime gets; every name must be a field of its settings model.

tests/infra/test_infra_lint_contract.py checks these names against services/*/settings.py and
lambdas/*/settings.py, so a renamed setting fails a test instead of a deployment.
"""

from __future__ import annotations

from infra.config import EnvironmentConfig
from infra.naming import bucket_name

STORAGE_PREFIX = "storage"
# RecommenderSettings.admin_api_key; a container secret on Fargate, never a plain variable.
ADMIN_KEY_VARIABLE = "BEACON_ADMIN_API_KEY"


def core_environment(config: EnvironmentConfig, *, db_secret_arn: str) -> dict[str, str]:
    """Variables of CoreSettings that every Beacon process in AWS needs."""
    return {
        "BEACON_ENV": config.name,
        "BEACON_DB_SECRET_ARN": db_secret_arn,
        "BEACON_STORAGE_URI": f"s3://{bucket_name(config, 'data')}/{STORAGE_PREFIX}",
        "BEACON_AWS_REGION": config.region,
        "BEACON_LOG_FORMAT": "json",
    }


def processing_environment(config: EnvironmentConfig, *, db_secret_arn: str) -> dict[str, str]:
    """Variables for `beacon ...` jobs in SageMaker Processing (EmbeddingSettings)."""
    return core_environment(config, db_secret_arn=db_secret_arn)


def serving_environment(config: EnvironmentConfig, *, db_secret_arn: str) -> dict[str, str]:
    """Variables for the API on Fargate (ServingSettings)."""
    return {
        **core_environment(config, db_secret_arn=db_secret_arn),
        "BEACON_HOST": "0.0.0.0",  # noqa: S104 - inside the task's own network namespace
        "BEACON_PORT": "8000",
        # `beacon serve` (the image's CMD) runs this many uvicorn workers: one per vCPU.
        "BEACON_WORKERS": str(config.serving.workers),
        # API Gateway sets X-Beacon-Client from the SigV4 caller (infra/constructs/public_api.py).
        "BEACON_REQUIRE_CLIENT_IDENTITY": "true",
    }


def lambda_api_environment(config: EnvironmentConfig, *, db_secret_arn: str) -> dict[str, str]:
    """Variables for the API on Lambda (ServingSettings); Mangum needs no host or port.

    No BEACON_REQUIRE_CLIENT_IDENTITY: a Lambda proxy integration cannot add the header (the
    caller is in the event's requestContext.identity instead).
    """
    return core_environment(config, db_secret_arn=db_secret_arn)

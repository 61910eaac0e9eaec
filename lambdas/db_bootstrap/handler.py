"""Custom-resource handler: wait for PostgreSQL, then set up pgvector, the app role, the schema."""

from __future__ import annotations

from typing import Any

import boto3
import psycopg
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.common import cfn_response
from lambdas.db_bootstrap.database import bootstrap
from lambdas.db_bootstrap.secrets import DbSecret, read_secret
from lambdas.db_bootstrap.settings import BootstrapSettings
from lambdas.db_bootstrap.waiting import wait_for
from services.core.db_credentials import tls_options

logger = Logger(service="beacon-db-bootstrap")
tracer = Tracer(service="beacon-db-bootstrap")
metrics = Metrics(namespace="Beacon/Platform", service="beacon-db-bootstrap")


def connect_when_ready(secret: DbSecret, settings: BootstrapSettings) -> psycopg.Connection:
    """A master connection, retried until the instance answers or the wait times out."""

    def attempt() -> psycopg.Connection:
        return psycopg.connect(
            **secret.conninfo(
                connect_timeout=int(settings.connect_timeout_s),
                application_name="beacon-db-bootstrap",
                # verify-full against the RDS CA bundle: the same rule as the app's connections.
                **tls_options(settings.ssl_root_cert),
            ),
            autocommit=True,
        )

    def log_retry(failures: int, error: BaseException, pause: float) -> None:
        logger.warning(
            "database not ready", extra={"attempt": failures, "error": str(error), "pause": pause}
        )

    return wait_for(
        attempt,
        timeout_s=settings.wait_timeout_s,
        initial_backoff_s=settings.initial_backoff_s,
        max_backoff_s=settings.max_backoff_s,
        retry_on=(psycopg.OperationalError,),
        on_retry=log_retry,
    )


@tracer.capture_method
def run(settings: BootstrapSettings, secrets_client: Any) -> dict[str, str]:
    """Create or update: every step is idempotent. Returns the custom resource's attributes."""
    app = read_secret(secrets_client, settings.app_secret_arn)
    master = read_secret(secrets_client, settings.master_secret_arn, default_dbname=app.dbname)
    with connect_when_ready(master, settings) as conn:
        applied = bootstrap(
            conn,
            app_username=app.username,
            app_password=app.password,
            dbname=app.dbname,
            owner=master.username,
        )
    metrics.add_metric(name="MigrationsApplied", unit=MetricUnit.Count, value=len(applied))
    logger.info("database bootstrapped", extra={"applied": applied})
    return {"AppliedMigrations": ",".join(applied) or "none", "AppUsername": app.username}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    """Entry point; always answers CloudFormation, also when a step fails."""
    # Delete leaves the database alone: it is owned (and retained) by the RDS instance.
    cfn_response.answer(
        event,
        default_physical_id="beacon-database-bootstrap",
        on_change=lambda: run(BootstrapSettings(), boto3.client("secretsmanager")),
        logger=logger,
        failure="bootstrap failed",
    )

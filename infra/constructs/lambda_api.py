"""LambdaApi: the same FastAPI app on Lambda through Mangum, the cheaper serving option."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs._iam import acknowledge_serving_reads, serving_runtime_statements
from infra.constructs.container_function import ContainerFunction
from infra.constructs.experiment_tracking import ExperimentTracking
from infra.constructs.network import Network
from infra.images import lambda_code
from infra.runtime_env import lambda_api_environment

HANDLER = "lambdas.api.handler.handler"


class LambdaApi(Construct):
    """A container-image function running services.serving.app behind API Gateway."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        key: kms.IKey,
        db_secret: secretsmanager.ISecret,
        tracking: ExperimentTracking,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        serving = config.serving
        # No BEACON_ADMIN_API_KEY: Lambda cannot inject secrets, so the admin endpoints stay 403.
        self.environment = lambda_api_environment(config, db_secret_arn=db_secret.secret_arn)
        self.handler = ContainerFunction(
            self,
            "Handler",
            code=lambda_code(handler=HANDLER, extras="serving,lambdas"),
            description=f"{config.prefix} API on Lambda (FastAPI through Mangum)",
            environment=self.environment,
            config=config,
            network=network,
            key=key,
            removal_policy=removal_policy,
            # API Gateway gives up after 29 s; a longer Lambda would only burn money.
            timeout=Duration.seconds(29),
            memory_mib=serving.lambda_memory_mib,
            reserved_concurrency=serving.lambda_reserved_concurrency,
        )
        self.handler.grant(
            *serving_runtime_statements(
                config,
                db_secret_arn=db_secret.secret_arn,
                tracking_statements=tracking.client_statements(write=False),
            )
        )
        acknowledge_serving_reads(self.handler.policy, config)
        self.function = self.handler.function
        self.security_group = self.handler.security_group

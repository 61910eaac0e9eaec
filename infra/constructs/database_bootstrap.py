"""DatabaseBootstrap: a custom resource that prepares pgvector, the app role and the schema."""

from __future__ import annotations

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.container_function import ContainerFunction
from infra.constructs.network import Network
from infra.constructs.vector_database import VectorDatabase
from infra.images import lambda_code, migrations_fingerprint

HANDLER = "lambdas.db_bootstrap.handler.handler"


class DatabaseBootstrap(Construct):
    """Runs lambdas/db_bootstrap on every deploy whose migrations or secrets changed.

    CloudFormation invokes the function directly (no provider framework), so the only
    Lambda involved is this one, with its own DLQ, VPC placement and least-privilege role.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        database: VectorDatabase,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.environment = {
            "BEACON_BOOTSTRAP_MASTER_SECRET_ARN": database.master_secret.secret_arn,
            "BEACON_BOOTSTRAP_APP_SECRET_ARN": database.app_secret.secret_arn,
            "BEACON_BOOTSTRAP_WAIT_TIMEOUT_S": "600",
        }
        self.handler = ContainerFunction(
            self,
            "Handler",
            code=lambda_code(handler=HANDLER),
            description=f"{config.prefix} database bootstrap: pgvector, app role, migrations",
            environment=self.environment,
            config=config,
            network=network,
            key=key,
            removal_policy=removal_policy,
            timeout=Duration.minutes(14),
            memory_mib=512,
            reserved_concurrency=1,
        )
        self.handler.grant(
            iam.PolicyStatement(
                sid="ReadDatabaseSecrets",
                actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                resources=[database.master_secret.secret_arn, database.app_secret.secret_arn],
            )
        )
        database.allow_from(self.handler.security_group, "database bootstrap")
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.handler.function.function_arn,
            resource_type="Custom::BeaconDatabaseBootstrap",
            properties={
                "MigrationsFingerprint": migrations_fingerprint(),
                "AppUsername": database.app_username,
                "DatabaseName": database.database_name,
            },
        )
        # The CfnDBInstance only: the L2 construct also holds the rotation schedules below.
        self.resource.node.add_dependency(database.instance.node.default_child)
        # Rotating a password while the bootstrap reads or sets it would race.
        for rotation in database.rotations:
            rotation.node.add_dependency(self.resource)

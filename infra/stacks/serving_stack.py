"""ServingStack: the public API (API Gateway + WAF) on Fargate or on Lambda, per environment."""

from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.api_service import ApiService
from infra.constructs.lambda_api import LambdaApi
from infra.constructs.network import Network
from infra.constructs.public_api import PublicApi
from infra.retention import stateful_removal
from infra.stacks.data_stack import DataStack
from infra.stacks.ml_stack import MlStack


class ServingStack(Stack):
    """Stateless serving layer: redeployed with every release."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        data: DataStack,
        ml: MlStack,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        removal = stateful_removal(config)
        self.service: ApiService | None = None
        self.lambda_api: LambdaApi | None = None
        self._add_backend(config, network, data, ml, removal)
        self.public_api = PublicApi(
            self,
            "PublicApi",
            config=config,
            vpc=network.vpc,
            key=data.key,
            removal_policy=removal,
            service=self.service,
            function=self.lambda_api.function if self.lambda_api else None,
        )
        self._add_outputs()

    def _add_backend(
        self,
        config: EnvironmentConfig,
        network: Network,
        data: DataStack,
        ml: MlStack,
        removal: RemovalPolicy,
    ) -> None:
        """The API on Fargate (self.service) or on Lambda (self.lambda_api), let into the DB."""
        database = data.database
        if config.serving.mode == "fargate":
            assert data.buckets.alb_logs is not None
            self.service = ApiService(
                self,
                "Service",
                config=config,
                network=network,
                image=ml.images.serving,
                key=data.key,
                db_secret=database.app_secret,
                tracking=ml.tracking,
                access_logs=data.buckets.alb_logs,
                removal_policy=removal,
            )
            database.allow_from(self.service.security_group, "API tasks")
        else:
            self.lambda_api = LambdaApi(
                self,
                "LambdaApi",
                config=config,
                network=network,
                key=data.key,
                db_secret=database.app_secret,
                tracking=ml.tracking,
                removal_policy=removal,
            )
            database.allow_from(self.lambda_api.security_group, "API Lambda")

    def _add_outputs(self) -> None:
        """The URL, key ids, client roles and admin secret that operators and smoke tests read."""
        CfnOutput(self, "ApiUrl", value=self.public_api.url)
        first_key = next(iter(self.public_api.api_keys.values()))
        # The first client's key under the name the deploy workflow's smoke suite reads.
        CfnOutput(self, "ApiKeyId", value=first_key.key_id)
        for name, key in self.public_api.api_keys.items():
            suffix = name.title().replace("-", "")
            CfnOutput(
                self,
                f"ApiKeyId{suffix}",
                value=key.key_id,
                description=f"client {name}: aws apigateway get-api-key --include-value --api-key",
            )
        if self.public_api.client_roles:
            # The first created client's role under the name the smoke suite reads.
            first_role = next(iter(self.public_api.client_roles.values()))
            CfnOutput(self, "ClientRoleArn", value=first_role.role_arn)
        for name, role in self.public_api.client_roles.items():
            CfnOutput(
                self,
                f"ClientRoleArn{name.title().replace('-', '')}",
                value=role.role_arn,
                description=f"client {name}: assume this role and sign requests (SigV4)",
            )
        if self.service:
            CfnOutput(
                self,
                "AdminKeySecretArn",
                value=self.service.admin_key.secret_arn,
                description="X-Admin-Key value: aws secretsmanager get-secret-value --secret-id",
            )

"""DeliveryStack: the GitHub OIDC provider (or a reference to it) and the deploy role."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.github_deploy_role import GITHUB_OIDC_URL, STS_AUDIENCE, GitHubDeployRole


class DeliveryStack(Stack):
    """Deployed once by an administrator (`make delivery-role`), never by the pipeline itself."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        if config.delivery is None:
            raise ValueError(f"{config.name} has no delivery configuration")
        provider: iam.IOidcProvider
        if config.delivery.oidc_provider_arn:
            provider = iam.OidcProviderNative.from_oidc_provider_arn(
                self, "GitHubOidc", config.delivery.oidc_provider_arn
            )
        else:
            provider = iam.OidcProviderNative(
                self,
                "GitHubOidc",
                url=GITHUB_OIDC_URL,
                client_ids=[STS_AUDIENCE],
            )
        self.deploy_role = GitHubDeployRole(self, "DeployRole", config=config, provider=provider)
        CfnOutput(self, "DeployRoleArn", value=self.deploy_role.role.role_arn)
        CfnOutput(self, "OidcProviderArn", value=provider.oidc_provider_arn)
        CfnOutput(self, "GitHubSubject", value=self.deploy_role.subject)

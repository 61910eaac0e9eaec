"""GitHubDeployRole: the IAM role GitHub Actions assumes through OIDC to deploy one environment."""

from __future__ import annotations

from aws_cdk import Aws, DefaultStackSynthesizer, Duration
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.nag import AWS_SOLUTIONS, acknowledge

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_ISSUER = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
# The CDK bootstrap roles a deploy needs; the lookup role is left out (the app does no lookups).
BOOTSTRAP_ROLES = ("deploy", "file-publishing", "image-publishing")


def deploy_role_name(config: EnvironmentConfig) -> str:
    """Physical name the workflows put in `role-to-assume`: beacon-<env>-github-deploy."""
    return f"{config.prefix}-github-deploy"


def github_subject(config: EnvironmentConfig) -> str:
    """The OIDC `sub` claim of a job in the repository's GitHub environment for `config`."""
    if config.delivery is None:
        raise ValueError(f"{config.name} has no delivery configuration")
    delivery = config.delivery
    return f"repo:{delivery.github_repository}:environment:{delivery.github_environment}"


def bootstrap_role_arn(
    kind: str, qualifier: str = DefaultStackSynthesizer.DEFAULT_QUALIFIER
) -> str:
    """ARN of one CDK bootstrap role in the stack's account and region."""
    return (
        f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/"
        f"cdk-{qualifier}-{kind}-role-{Aws.ACCOUNT_ID}-{Aws.REGION}"
    )


class GitHubDeployRole(Construct):
    """Trusts one repository's jobs in one GitHub environment; may only hand over to CDK.

    Its own permissions stop at assuming the CDK bootstrap roles (publishing assets and
    CloudFormation deploys run under those, as for any `cdk deploy`) and reading the value of
    this environment's API keys, which the smoke suite sends. The job's `environment:` makes the
    `sub` claim, so a pull request or another branch's job cannot assume it; the GitHub
    environment's branch rule and reviewers decide which runs get there.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        provider: iam.IOidcProvider,
    ) -> None:
        super().__init__(scope, construct_id)
        self.subject = github_subject(config)
        self.role = self._role(config, provider)
        self.api_keys_arn = f"arn:{Aws.PARTITION}:apigateway:{Aws.REGION}::/apikeys/*"
        self.client_roles_arn = (
            f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/{config.prefix}-client-*"
        )
        self.policy = self._policy(config)
        self._acknowledge_wildcards(config)

    def _role(self, config: EnvironmentConfig, provider: iam.IOidcProvider) -> iam.Role:
        """The role, assumable only by tokens for this audience and `sub` claim."""
        principal = iam.WebIdentityPrincipal(
            provider.oidc_provider_arn,
            conditions={
                "StringEquals": {
                    f"{GITHUB_OIDC_ISSUER}:aud": STS_AUDIENCE,
                    f"{GITHUB_OIDC_ISSUER}:sub": self.subject,
                }
            },
        )
        return iam.Role(
            self,
            "Role",
            role_name=deploy_role_name(config),
            assumed_by=principal,
            description=f"{config.prefix}: GitHub Actions deploys from {self.subject}",
            max_session_duration=Duration.hours(2),
        )

    def _policy(self, config: EnvironmentConfig) -> iam.ManagedPolicy:
        """Hand over to CDK's bootstrap roles; the smoke suite's client roles and API keys."""
        return iam.ManagedPolicy(
            self,
            "Policy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="HandOverToCdkBootstrapRoles",
                    actions=["sts:AssumeRole"],
                    resources=[bootstrap_role_arn(kind) for kind in BOOTSTRAP_ROLES],
                ),
                # The smoke suite signs its requests as one of this environment's API clients.
                iam.PolicyStatement(
                    sid="AssumeThisEnvironmentsApiClients",
                    actions=["sts:AssumeRole"],
                    resources=[self.client_roles_arn],
                ),
                iam.PolicyStatement(
                    sid="ReadThisEnvironmentsApiKeys",
                    actions=["apigateway:GET"],
                    resources=[self.api_keys_arn],
                    conditions={
                        "StringEquals": {
                            "aws:ResourceTag/project": "beacon",
                            "aws:ResourceTag/environment": config.name,
                        }
                    },
                ),
            ],
        )

    def _acknowledge_wildcards(self, config: EnvironmentConfig) -> None:
        """The policy's two wildcard resources, each limited to this environment."""
        acknowledge(
            self.policy,
            [
                f"{AWS_SOLUTIONS}-IAM5[Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::/apikeys/*]"
            ],
            "API key ids change with every Serving deploy and a cross-stack reference would tie "
            "the deploy role to that stack; the tag condition limits reads to this "
            "environment's Beacon keys.",
        )
        acknowledge(
            self.policy,
            [
                f"{AWS_SOLUTIONS}-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:"
                f"role/{config.prefix}-client-*]"
            ],
            "The smoke suite signs as one of this environment's API client roles, whose names "
            "come from the environment config; the prefix limits it to this environment.",
        )

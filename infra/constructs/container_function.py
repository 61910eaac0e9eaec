"""ContainerFunction: a container-image Lambda hardened the same way everywhere."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs._logs import encrypted_log_group
from infra.constructs.network import PRIVATE, Network


class ContainerFunction(Construct):
    """Lambda in private subnets with its own role, encrypted logs, a DLQ and reserved concurrency.

    The role takes no implicit grants: every permission is an explicit statement in this
    function's customer-managed policy (see `grant`), so reviews read one document.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.DockerImageCode,
        description: str,
        environment: dict[str, str],
        config: EnvironmentConfig,
        network: Network,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
        timeout: Duration,
        memory_mib: int = 512,
        reserved_concurrency: int = 1,
        allow_all_outbound: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        vpc = network.vpc
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=description,
            managed_policies=[network.lambda_baseline],
        )
        self.log_group = encrypted_log_group(
            self, "Logs", config=config, key=key, removal_policy=removal_policy
        )
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            data_key_reuse=Duration.hours(1),
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"{description} (egress only)",
            allow_all_outbound=allow_all_outbound,
        )
        self.policy = self._own_policy(key)
        self.function = self._function(
            code,
            description=description,
            environment=environment,
            vpc=vpc,
            timeout=timeout,
            memory_mib=memory_mib,
            reserved_concurrency=reserved_concurrency,
        )
        # Without this the function could start before its policy exists and fail its first run.
        self.function.node.add_dependency(self.policy)

    def _own_policy(self, key: kms.IKey) -> iam.ManagedPolicy:
        """The role's only policy: its own log group, dead-letter queue and the key."""
        return iam.ManagedPolicy(
            self,
            "Policy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="OwnLogGroup",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.log_group.log_group_arn],
                ),
                iam.PolicyStatement(
                    sid="DeadLetterQueue",
                    actions=["sqs:SendMessage"],
                    resources=[self.dead_letters.queue_arn],
                ),
                iam.PolicyStatement(
                    sid="EncryptionKey",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[key.key_arn],
                ),
            ],
        )

    def _function(
        self,
        code: lambda_.DockerImageCode,
        *,
        description: str,
        environment: dict[str, str],
        vpc: ec2.IVpc,
        timeout: Duration,
        memory_mib: int,
        reserved_concurrency: int,
    ) -> lambda_.DockerImageFunction:
        """The function itself, wired to the role, security group, logs and DLQ made before."""
        return lambda_.DockerImageFunction(
            self,
            "Function",
            code=code,
            description=description,
            role=self.role.without_policy_updates(),
            environment=environment,
            vpc=vpc,
            vpc_subnets=PRIVATE,
            security_groups=[self.security_group],
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            dead_letter_queue=self.dead_letters,
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            timeout=timeout,
            memory_size=memory_mib,
            architecture=lambda_.Architecture.X86_64,
        )

    def grant(self, *statements: iam.PolicyStatement) -> None:
        """Add explicit permissions to this function's policy."""
        self.policy.add_statements(*statements)

"""EncryptionKey: a customer-managed KMS key that CloudWatch Logs and alarms may use."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class EncryptionKey(Construct):
    """A rotating KMS key whose policy lets this account's log groups and alarms use it."""

    def __init__(
        self, scope: Construct, construct_id: str, *, alias: str, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.key = kms.Key(
            self,
            "Key",
            alias=alias,
            description=f"Beacon {alias}: data at rest, logs, queues, topics",
            enable_key_rotation=True,
            pending_window=Duration.days(30 if removal_policy == RemovalPolicy.RETAIN else 7),
            removal_policy=removal_policy,
        )
        # Log groups are encrypted by the Logs service itself, so it needs the key; the
        # encryption-context condition keeps it to this account's log groups.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:DescribeKey",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                        )
                    }
                },
            )
        )
        # CloudWatch alarms and AWS Budgets publish to KMS-encrypted SNS topics as services.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmsAndBudgetsToEncryptedTopics",
                principals=[
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                    iam.ServicePrincipal("budgets.amazonaws.com"),
                ],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )

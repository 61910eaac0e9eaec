"""Notifications: alarm and notification topics, and the notifier that forwards events to them."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.container_function import ContainerFunction
from infra.constructs.network import Network
from infra.constructs.orchestration import PIPELINE_EVENT_DETAIL_TYPE, PIPELINE_EVENT_SOURCE
from infra.images import lambda_code

HANDLER = "lambdas.notifier.handler.handler"


class Notifications(Construct):
    """Alarms go to `alarm_topic`; the notifier formats them and pipeline events for people.

    People subscribe to `topic` (email from the config); a webhook (Slack, Teams, ...) is
    configured by naming a Secrets Manager secret that holds its URL.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarm_topic = self._topic(config, key, "AlarmTopic", "alarms")
        self.topic = self._topic(config, key, "NotificationTopic", "notifications")
        self._let_people_subscribe(config)
        self.environment = {
            "BEACON_NOTIFIER_ENV": config.name,
            "BEACON_NOTIFIER_TOPIC_ARN": self.topic.topic_arn,
            "BEACON_NOTIFIER_METRICS_NAMESPACE": config.metrics_namespace,
        }
        if config.alert_webhook_secret_name:
            self.environment["BEACON_NOTIFIER_WEBHOOK_SECRET_ID"] = config.alert_webhook_secret_name
        self.notifier = ContainerFunction(
            self,
            "Notifier",
            code=lambda_code(handler=HANDLER),
            description=f"{config.prefix} notifier: alarms and pipeline events to people",
            environment=self.environment,
            config=config,
            network=network,
            key=key,
            removal_policy=removal_policy,
            timeout=Duration.seconds(30),
            reserved_concurrency=2,
        )
        self._grant_notifier(config)
        self.alarm_topic.add_subscription(subscriptions.LambdaSubscription(self.notifier.function))
        self._forward_events(config)

    def _topic(
        self, config: EnvironmentConfig, key: kms.IKey, topic_id: str, kind: str
    ) -> sns.Topic:
        """An encrypted, TLS-only topic named `<prefix>-<kind>`."""
        return sns.Topic(
            self,
            topic_id,
            topic_name=f"{config.prefix}-{kind}",
            master_key=key,
            enforce_ssl=True,
        )

    def _let_people_subscribe(self, config: EnvironmentConfig) -> None:
        """Email subscriptions from the config, and budget alerts, on the people's topic."""
        for email in config.alert_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        # AWS Budgets publishes budget alerts straight to the people's topic.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowBudgetAlerts",
                principals=[iam.ServicePrincipal("budgets.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )

    def _grant_notifier(self, config: EnvironmentConfig) -> None:
        """Publish to the people's topic and, when configured, read the webhook URL."""
        self.notifier.grant(
            iam.PolicyStatement(
                sid="PublishNotifications",
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
            )
        )
        if config.alert_webhook_secret_name:
            # Secrets created outside CDK get a random 6-character suffix on their ARN.
            webhook_arn = (
                f"arn:{Aws.PARTITION}:secretsmanager:{Aws.REGION}:{Aws.ACCOUNT_ID}:secret:"
                f"{config.alert_webhook_secret_name}-??????"
            )
            self.notifier.grant(
                iam.PolicyStatement(
                    sid="ReadWebhookUrl",
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[webhook_arn],
                )
            )

    def _forward_events(self, config: EnvironmentConfig) -> None:
        """EventBridge rules that send failed Processing jobs and DAG events to the notifier."""
        target = targets.LambdaFunction(
            self.notifier.function, retry_attempts=4, max_event_age=Duration.hours(2)
        )
        events.Rule(
            self,
            "ProcessingJobFailures",
            description=f"{config.prefix}: SageMaker Processing jobs that failed or stopped",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Processing Job State Change"],
                detail={
                    "ProcessingJobStatus": ["Failed", "Stopped"],
                    "ProcessingJobName": [{"prefix": f"{config.prefix}-"}],
                },
            ),
            targets=[target],
        )
        events.Rule(
            self,
            "PipelineEvents",
            description=f"{config.prefix}: events that DAG callbacks publish",
            event_pattern=events.EventPattern(
                source=[PIPELINE_EVENT_SOURCE],
                detail_type=[PIPELINE_EVENT_DETAIL_TYPE],
                detail={"env": [config.name]},
            ),
            targets=[target],
        )

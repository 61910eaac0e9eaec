"""ObservabilityStack: dashboard, alarms, notifications and the cost budget."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.cost_budget import CostBudget
from infra.constructs.monitoring import Monitoring
from infra.constructs.network import Network
from infra.constructs.notifications import Notifications
from infra.naming import mwaa_environment_name
from infra.retention import stateful_removal
from infra.stacks.data_stack import DataStack
from infra.stacks.serving_stack import ServingStack


class ObservabilityStack(Stack):
    """How people learn that something in the environment needs them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        data: DataStack,
        serving: ServingStack,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.notifications = Notifications(
            self,
            "Notifications",
            config=config,
            network=network,
            key=data.key,
            removal_policy=stateful_removal(config),
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            api_name=serving.public_api.api.rest_api_name,
            database=data.database.instance,
            alarm_topic=self.notifications.alarm_topic,
            people_topic=self.notifications.topic,
            notifier=self.notifications.notifier,
            mwaa_environment_name=mwaa_environment_name(config),
            service=serving.service,
            lambda_api=serving.lambda_api,
        )
        self.budget = CostBudget(self, "Budget", config=config, topic=self.notifications.topic)

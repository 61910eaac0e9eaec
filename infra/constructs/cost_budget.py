"""CostBudget: an AWS Budget at the environment's monthly amount, alerting its topic."""

from __future__ import annotations

from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import EnvironmentConfig

# (threshold % of the budget, ACTUAL or FORECASTED)
ALERTS = ((80, "ACTUAL"), (100, "ACTUAL"), (100, "FORECASTED"))
# A budget notification takes at most 10 email subscribers (plus the one SNS topic).
MAX_EMAILS = 10


class CostBudget(Construct):
    """Monthly cost budget filtered on the `environment` cost-allocation tag."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, topic: sns.ITopic
    ) -> None:
        super().__init__(scope, construct_id)
        # The topic reaches the webhook too; the emails are also named directly, so a budget
        # alert still reaches people if the topic's key or policy ever refuses AWS Budgets.
        subscribers = [
            budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=topic.topic_arn),
            *(
                budgets.CfnBudget.SubscriberProperty(subscription_type="EMAIL", address=email)
                for email in config.alert_emails[:MAX_EMAILS]
            ),
        ]
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=f"{config.prefix}-monthly",
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(
                    amount=config.monthly_budget_usd, unit="USD"
                ),
                # Needs `environment` activated as a cost-allocation tag (see docs).
                cost_filters={"TagKeyValue": [f"user:environment${config.name}"]},
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        comparison_operator="GREATER_THAN",
                        notification_type=kind,
                        threshold=percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=subscribers,
                )
                for percent, kind in ALERTS
            ],
        )

"""Settings of the notifier Lambda (env prefix BEACON_NOTIFIER_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifierSettings(BaseSettings):
    """Where notifications go."""

    model_config = SettingsConfigDict(env_prefix="BEACON_NOTIFIER_", extra="ignore", frozen=True)

    env: str = Field(description="Environment name shown in every message.")
    topic_arn: str = Field(description="SNS topic that people subscribe to.")
    webhook_secret_id: str | None = Field(
        None, description="Secrets Manager secret holding a webhook URL (Slack, Teams ...)."
    )
    webhook_timeout_s: float = Field(5, gt=0, description="Timeout of one webhook call.")
    metrics_namespace: str = Field(
        "Beacon/local", description="CloudWatch namespace of the failure counters."
    )

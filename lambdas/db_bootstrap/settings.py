"""Settings of the database bootstrap Lambda (env prefix BEACON_BOOTSTRAP_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BootstrapSettings(BaseSettings):
    """Which secrets to use and how long to wait for the database."""

    model_config = SettingsConfigDict(env_prefix="BEACON_BOOTSTRAP_", extra="ignore", frozen=True)

    master_secret_arn: str = Field(description="RDS master-user secret (RDS-style JSON).")
    app_secret_arn: str = Field(description="Application-user secret (RDS-style JSON).")
    wait_timeout_s: float = Field(600, gt=0, description="How long to wait for the database.")
    connect_timeout_s: float = Field(5, gt=0, description="Timeout of one connection attempt.")
    initial_backoff_s: float = Field(2, gt=0, description="First pause between attempts.")
    max_backoff_s: float = Field(30, gt=0, description="Longest pause between attempts.")
    ssl_root_cert: str = Field(
        "/opt/beacon/rds-global-bundle.pem",
        description="RDS CA bundle baked into the image (sslmode is always verify-full).",
    )

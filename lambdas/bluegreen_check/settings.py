"""Settings of the blue/green check Lambda (env prefix BEACON_BLUEGREEN_)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class BlueGreenCheckSettings(BaseSettings):
    """Where the test listener is, what to ask it, and how long to wait for the green tasks."""

    model_config = SettingsConfigDict(env_prefix="BEACON_BLUEGREEN_", extra="ignore", frozen=True)

    test_url: str = Field(
        description="Base URL of the ALB's test listener, e.g. https://internal-alb...:8443."
    )
    server_name: str = Field(
        description="DNS name the ALB certificate is issued for; TLS is verified against it."
    )
    paths: tuple[str, ...] = Field(
        ("/ready", "/health"), description="Routes that must answer 200 with a JSON object."
    )
    timeout_s: float = Field(3, gt=0, le=10, description="Timeout of one request.")
    max_attempts: int = Field(
        10, ge=1, le=40, description="Invocations (one per callBackDelay) before giving up."
    )
    retry_delay_s: int = Field(
        30, ge=1, le=900, description="callBackDelay while the green tasks are still warming."
    )
    ca_bundle: str | None = Field(
        None, description="PEM bundle to trust instead of the system store (private CAs, tests)."
    )

    @field_validator("test_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("test_url must use https (the test listener is TLS only)")
        return value.rstrip("/")

    @field_validator("paths")
    @classmethod
    def _absolute(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or any(not p.startswith("/") for p in value):
            raise ValueError("paths must name at least one route, each starting with '/'")
        return value

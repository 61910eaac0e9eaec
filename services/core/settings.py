"""Typed settings shared by every Beacon service (pydantic-settings, `BEACON_` prefix)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CoreSettings(BaseSettings):
    """Settings every Beacon process needs: where state lives and how to reach the database."""

    model_config = SettingsConfigDict(
        env_prefix="BEACON_", env_file=".env", extra="ignore", frozen=True
    )

    env: Literal["local", "dev", "staging", "prod", "test"] = Field(
        "local", description="Deployment environment name; `local` means embedded defaults."
    )
    home: Path = Field(
        Path(".beacon"),
        description="Local state folder: embedded PostgreSQL data, MLflow store, reports.",
    )
    database_url: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_URL", "BEACON_DATABASE_URL"),
        description="PostgreSQL URL. Unset (and no secret ARN): start the embedded server.",
    )
    db_secret_arn: str | None = Field(
        None,
        description="Secrets Manager ARN of an RDS-style JSON secret "
        "(host, port, username, password, dbname); read at start in AWS.",
    )
    db_ssl_root_cert: Path = Field(
        Path("/opt/beacon/rds-global-bundle.pem"),
        description="RDS CA bundle for `sslmode=verify-full` to a database named by "
        "db_secret_arn; the images fetch it at build time.",
    )
    db_pool_min: int = Field(1, ge=0, description="Minimum open connections in the pool.")
    db_pool_max: int = Field(8, ge=1, description="Maximum open connections in the pool.")
    db_connect_timeout: float = Field(
        5.0, gt=0, description="Seconds to wait for a database connection before failing."
    )
    db_statement_timeout: float = Field(
        0.0,
        ge=0,
        description="Seconds one SQL statement may run before the server cancels it; 0 = no "
        "limit (batch jobs). The API sets 10 by default, so a stalled database fails requests "
        "with 503 instead of hanging them.",
    )
    db_pool_timeout: float | None = Field(
        None,
        gt=0,
        description="Seconds a caller waits for a free pooled connection; unset: "
        "BEACON_DB_CONNECT_TIMEOUT.",
    )
    storage_uri: str = Field(
        "",
        description="Object storage root: a local folder or s3://bucket/prefix. "
        "Empty: <home>/storage.",
    )
    aws_region: str | None = Field(None, description="AWS region for boto3 clients.")
    log_level: str = Field("INFO", description="Log level (DEBUG, INFO, WARNING, ERROR).")
    log_format: Literal["json", "text"] = Field(
        "json", description="`json` for structured logs, `text` for humans at a terminal."
    )

    @property
    def pgdata(self) -> Path:
        """Data folder of the embedded PostgreSQL server."""
        return self.home.resolve() / "pgdata"

    @property
    def resolved_storage_uri(self) -> str:
        """Storage root with the local default filled in."""
        return self.storage_uri or str(self.home.resolve() / "storage")


@lru_cache(maxsize=1)
def get_core_settings() -> CoreSettings:
    """Core settings, read once per process."""
    return CoreSettings()

"""Settings of the DAG sync Lambda (env prefix BEACON_DAGSYNC_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DagSyncSettings(BaseSettings):
    """Where the pipelines come from and which bucket MWAA reads."""

    model_config = SettingsConfigDict(env_prefix="BEACON_DAGSYNC_", extra="ignore", frozen=True)

    bucket: str = Field(description="MWAA source bucket.")
    source_dir: Path = Field(
        Path("/opt/beacon/pipelines"), description="pipelines/ folder baked into the image."
    )

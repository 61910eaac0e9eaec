"""The MLflow store setting shared by the processes that train and serve models."""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, Field


class MlflowSettingsMixin(BaseModel):
    """Mix into a service's settings (after its CoreSettings base) to read MLFLOW_TRACKING_URI.

    A plain model, not BaseSettings, so it adds the field without touching the host's
    `BEACON_` prefix or other configuration.
    """

    mlflow_tracking_uri: str | None = Field(
        None,
        validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "BEACON_MLFLOW_TRACKING_URI"),
        description="MLflow tracking and registry URI. Unset or empty: the local store "
        "sqlite:///<home>/mlflow/mlflow.db with artifacts in <home>/mlflow/artifacts.",
    )

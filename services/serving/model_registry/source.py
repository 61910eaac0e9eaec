"""Read the MLflow registry: which version an alias points at, its tags and metrics, its model."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from services.mlops.registry import ALIAS_ABSENT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VersionInfo:
    """One registered model version as the registry describes it."""

    name: str
    version: str
    alias: str
    run_id: str | None
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)


class RegistrySource(Protocol):
    """Where model versions come from (MLflow in production; the protocol keeps slots testable)."""

    def resolve(self, name: str, alias: str) -> VersionInfo | None:
        """The version `alias` points at, or None when the model or the alias does not exist."""
        ...

    def load(self, info: VersionInfo) -> Any:
        """The scikit-learn object of that version."""
        ...


class MlflowRegistry:
    """Registry reads through an MlflowClient bound to one URI.

    Nothing here touches MLflow's process-wide tracking URI, so a training job in the same
    process (tests, the demo) keeps its own configuration.
    """

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self._client: Any = None

    def _local_store_missing(self) -> bool:
        # A fresh laptop has no store yet: answering "no model" without importing MLflow keeps
        # start-up fast and avoids creating an empty database as a side effect.
        if not self.tracking_uri.startswith("sqlite:///"):
            return False
        return not Path(unquote(urlparse(self.tracking_uri).path)).exists()

    def client(self) -> Any:
        """The MlflowClient, created on first use."""
        if self._client is None:
            from mlflow.tracking import MlflowClient

            self._client = MlflowClient(
                tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri
            )
        return self._client

    def resolve(self, name: str, alias: str) -> VersionInfo | None:
        """The version `alias` points at, with its tags and its run's metrics."""
        if self._local_store_missing():
            return None
        from mlflow.exceptions import MlflowException

        client = self.client()
        try:
            version = client.get_model_version_by_alias(name, alias)
        except MlflowException as exc:
            if exc.error_code in ALIAS_ABSENT:
                return None
            raise
        metrics: dict[str, float] = {}
        if version.run_id:
            metrics = dict(client.get_run(version.run_id).data.metrics)
        return VersionInfo(
            name=name,
            version=str(version.version),
            alias=alias,
            run_id=version.run_id,
            tags=dict(version.tags or {}),
            metrics=metrics,
        )

    def load(self, info: VersionInfo) -> Any:
        """The version's scikit-learn object (the sklearn flavour, not the slower pyfunc)."""
        import mlflow.sklearn

        uri = self.client().get_model_version_download_uri(info.name, info.version)
        return mlflow.sklearn.load_model(uri)

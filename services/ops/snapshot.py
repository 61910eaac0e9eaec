"""Gather everything the operator page shows, from the registry, storage and the database."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from services.core.database import Database
from services.core.errors import BeaconError, DatabaseUnavailable
from services.core.heartbeat import EMBED_REFRESH, last_success
from services.core.storage import Storage
from services.serving.signals import DriftCheck, drift_checks, experiment_results

log = logging.getLogger(__name__)

_COUNTS_SQL = """
SELECT 'postings', count(*), count(*) FILTER (WHERE embedded_hash = content_hash)
FROM job_postings
UNION ALL
SELECT 'resumes', count(*), count(*) FILTER (WHERE embedded_hash = content_hash) FROM resumes
"""


@dataclass(frozen=True)
class ModelView:
    """One registered model: its versions (newest first) and which one serves."""

    name: str
    versions: list[Any]  # services.mlops.registry.VersionInfo
    error: str | None = None

    @property
    def champion(self) -> Any | None:
        """The version holding the `champion` alias, if any."""
        return next((v for v in self.versions if "champion" in v.aliases), None)


@dataclass(frozen=True)
class RefreshView:
    """Freshness of the nightly embedding refresh."""

    last_success: float | None
    documents: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (stored, fresh)
    error: str | None = None

    @property
    def age_hours(self) -> float | None:
        """Hours since the last successful refresh."""
        return None if self.last_success is None else (time.time() - self.last_success) / 3600


@dataclass(frozen=True)
class OpsSnapshot:
    """What the operator page shows, gathered once."""

    generated_at: float
    models: list[ModelView]
    drift: list[DriftCheck]
    experiments: list[dict[str, Any]]
    refresh: RefreshView
    problems: list[str] = field(default_factory=list)


def gather(
    *,
    model_names: list[str],
    registry_settings: Any,
    reports_uri: str,
    storage_uri: str,
    database: Database | None,
    storage: Storage,
) -> OpsSnapshot:
    """Read every source; a source that fails is reported on the page, not fatal."""
    problems: list[str] = []
    models = [_model(name, registry_settings) for name in model_names]
    checks = drift_checks(reports_uri, storage)
    experiments: list[dict[str, Any]] = []
    documents: dict[str, tuple[int, int]] = {}
    db_error = None
    if database is not None:
        try:
            with database.connection() as conn:
                experiments = experiment_results(conn)
                documents = {k: (int(n), int(e)) for k, n, e in conn.execute(_COUNTS_SQL)}
        except DatabaseUnavailable as exc:
            db_error = str(exc)
            problems.append(f"database: {exc}")
    refresh = RefreshView(last_success(storage_uri, EMBED_REFRESH, storage), documents, db_error)
    return OpsSnapshot(time.time(), models, checks, experiments, refresh, problems)


def _model(name: str, settings: Any) -> ModelView:
    from services.mlops.registry import list_models, mlflow_tracking_uri
    from services.serving.model_registry.source import MlflowRegistry

    # A report must not create an empty MLflow store as a side effect (nor wait for one).
    if MlflowRegistry(mlflow_tracking_uri(settings))._local_store_missing():
        return ModelView(name, [], "no MLflow store yet: train a model first")
    try:
        return ModelView(name, list_models(name, settings))
    except BeaconError as exc:  # not registered yet: say so on the page
        return ModelView(name, [], str(exc))

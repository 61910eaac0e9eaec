"""The API's served models (readmission, job match): registry slots, poller and batcher."""

from __future__ import annotations

import logging
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from services.jobs.match_features import EXAMPLE_FEATURES, feature_frame
from services.mlops.registry import mlflow_tracking_uri
from services.serving.metrics import Metrics
from services.serving.model_registry.batching import PredictionBatcher
from services.serving.model_registry.poller import ModelPoller
from services.serving.model_registry.slot import ModelSlot
from services.serving.model_registry.source import MlflowRegistry, RegistrySource
from services.serving.settings import ServingSettings
from services.training.readmission_schema import (
    EXAMPLE_RECORD,
    FEATURE_COLUMNS,
    FEATURE_TYPES,
    MISSING,
)

log = logging.getLogger(__name__)


_RECORD_VALUES = operator.attrgetter(*FEATURE_COLUMNS)


def readmission_frame(records: list[Any]) -> pd.DataFrame:
    """One DataFrame for a batch of validated records (FEATURE_COLUMNS order, `?` for missing).

    Built column by column from NumPy arrays: about twice as fast as from per-record dicts
    (0.7 ms instead of 1.3 ms for 100 records), with the dtypes the training frame has.
    """
    data: dict[str, np.ndarray] = {}
    columns = zip(*map(_RECORD_VALUES, records), strict=True)  # records -> column tuples
    for name, values in zip(FEATURE_COLUMNS, columns, strict=True):
        if FEATURE_TYPES[name] is int:
            data[name] = np.array(values, dtype=np.int64)
        else:
            column = np.array(values, dtype=object)
            column[np.equal(column, None)] = MISSING
            data[name] = column
    return pd.DataFrame(data, columns=FEATURE_COLUMNS, copy=False)


def readmission_smoke_frame() -> pd.DataFrame:
    """The schema's example encounter: every new readmission version must score it."""
    return pd.DataFrame([EXAMPLE_RECORD], columns=FEATURE_COLUMNS)


def match_smoke_frame() -> pd.DataFrame:
    """A plausible pair's features: every new match version must score it."""
    return feature_frame([EXAMPLE_FEATURES])


@dataclass
class ServedModels:
    """The slots the routers read, the poller that keeps them on their alias, and the batcher
    that scores readmission requests."""

    readmission: ModelSlot
    match: ModelSlot
    poller: ModelPoller
    readmission_batcher: PredictionBatcher

    def slots(self) -> dict[str, ModelSlot]:
        """Slots by API role, as /v1/model/info lists them."""
        return {"readmission": self.readmission, "job_match": self.match}

    def start(self) -> dict[str, str]:
        """Load whatever the aliases point at now, then start polling; never raises."""
        outcomes = self.poller.refresh_all()
        self.poller.start()
        log.info("served models checked", extra={"outcomes": outcomes})
        return outcomes

    def close(self) -> None:
        """Stop the poller and the batcher (the lifespan calls this at shutdown)."""
        self.poller.close()
        self.readmission_batcher.close()


def build_served_models(
    settings: ServingSettings, metrics: Metrics, source: RegistrySource | None = None
) -> ServedModels:
    """Slots for the configured model names and alias on the configured MLflow store."""
    registry: Any = source or MlflowRegistry(mlflow_tracking_uri(settings))
    readmission = ModelSlot(
        settings.readmission_model_name,
        settings.model_alias,
        registry,
        readmission_smoke_frame,
        missing_hint="run `beacon train readmission`",
        on_outcome=metrics.model_outcome,
    )
    match = ModelSlot(
        settings.match_model_name,
        settings.model_alias,
        registry,
        match_smoke_frame,
        missing_hint="run `beacon train match`",
        on_outcome=metrics.model_outcome,
    )
    poller = ModelPoller(
        [readmission, match], settings.model_poll_seconds, on_error=metrics.registry_error
    )
    batcher = PredictionBatcher(
        readmission_frame, max_rows=settings.predict_batch_rows, name="readmission"
    )
    return ServedModels(readmission, match, poller, batcher)

"""The events workload inside the API: the hot-swapped recommender slot and retraining jobs."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from services.core.database import Database
from services.core.errors import Conflict
from services.mlops.cache import TtlCache
from services.mlops.registry import mlflow_tracking_uri
from services.recommender.algorithms import ALGORITHMS, EventsModel
from services.recommender.catalogue import Catalogue
from services.recommender.gates import empty_list_failure
from services.recommender.settings import RecommenderSettings
from services.serving.model_registry.poller import ModelPoller
from services.serving.model_registry.slot import (
    ModelSlot,
    _first_line,
)
from services.serving.model_registry.source import MlflowRegistry, RegistrySource, VersionInfo

log = logging.getLogger(__name__)


class RetrainRunning(Conflict):
    """A retraining job is already running in this API process (HTTP 409)."""


class EventsSlot(ModelSlot):
    """A ModelSlot whose versions are recommender bundles instead of scikit-learn pipelines.

    Same semantics as the other slots (alias polling, one reference swap, refused versions
    remembered); only loading and the smoke test differ: every algorithm must rank a known
    user's candidates with finite scores before the version may serve.
    """

    def __init__(
        self,
        name: str,
        alias: str,
        source: RegistrySource,
        tracking_uri: str,
        catalogue: Callable[[], Catalogue] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(
            name, alias, source, lambda: None, missing_hint="run `beacon train events`", **kw
        )
        self.tracking_uri = tracking_uri
        self.catalogue = catalogue

    def load_estimator(self, info: VersionInfo) -> Any:
        """The recommender bundle of the version."""
        from services.recommender.artifacts import load_events_model

        return load_events_model(self.tracking_uri, info.name, info.version)

    def smoke_test(self, estimator: Any) -> None:
        """Every algorithm must rank a known user's candidates, and every user with history
        must get a non-empty list from the current catalogue (no thread controller)."""
        catalogue = None
        if self.catalogue is not None:
            try:
                catalogue = self.catalogue()
            except Exception:
                # A database outage must not get a good version refused for good: the
                # training gate ran the same check against the catalogue already.
                log.warning("catalogue unreadable; smoke test without the empty-list check")
        smoke_test(estimator, catalogue)

    def threshold(self, info: VersionInfo) -> float:
        """Rankings have no decision threshold."""
        return 0.0


def smoke_test(bundle: EventsModel, catalogue: Catalogue | None = None) -> None:
    """Raise unless every algorithm returns finite scores for the first user over all items,
    and (given the catalogue) no user with history would get an empty list from it."""
    if len(bundle.user_ids) == 0 or len(bundle.item_ids) == 0:
        raise ValueError("the bundle has no users or no items")
    if catalogue is not None:
        candidates = catalogue.candidates(
            bundle, city=None, date_from=None, date_to=None, dismissed=set()
        )
        failure = empty_list_failure(bundle, candidates)
        if failure:
            raise ValueError(failure)
    items = np.arange(len(bundle.item_ids))
    for algorithm in ALGORITHMS:
        top, scores = bundle.recommend(algorithm, str(bundle.user_ids[0]), items, 10)
        if len(top) == 0 or not np.all(np.isfinite(scores)):
            raise ValueError(f"{algorithm}: no finite scores for a known user")


@dataclass
class EventsRuntime:
    """What the events router needs: settings, database, the slot, its poller, retraining."""

    settings: RecommenderSettings
    db: Database
    slot: EventsSlot
    poller: ModelPoller
    catalogue: TtlCache[Catalogue]
    _executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="events-retrain")
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _running: str | None = None

    def slots(self) -> dict[str, ModelSlot]:
        """Slots by API role, for /v1/model/info."""
        return {"events": self.slot}

    def start_retrain(self) -> str:
        """Start a retraining job in the background; returns its id (RetrainRunning if busy)."""
        with self._lock:
            if self._running is not None:
                raise RetrainRunning(f"retraining job {self._running} is still running")
            job_id = str(uuid.uuid4())
            with self.db.connection() as conn:
                conn.execute(
                    "INSERT INTO model_retrain_jobs (job_id, status) VALUES (%s, 'running')",
                    (job_id,),
                )
            self._running = job_id
        self._executor.submit(self._retrain, job_id)
        return job_id

    def _retrain(self, job_id: str) -> None:
        from services.recommender.training import train_events

        messages: list[str] = []
        try:
            outcome = train_events(self.settings, self.db, say=messages.append)
            # Swap now rather than at the next poll; the poller would get there too.
            swap = self.slot.refresh()
            status, version, promoted = "succeeded", outcome.version, outcome.promoted
            message = f"{outcome.gate}; slot {swap}"
            metrics: dict[str, Any] | None = outcome.flat_metrics
        except Exception as exc:
            log.exception("events retraining failed", extra={"job_id": job_id})
            status, version, promoted, metrics = "failed", None, None, None
            message = f"{type(exc).__name__}: {_first_line(exc)}"
        try:
            with self.db.connection() as conn:
                conn.execute(
                    "UPDATE model_retrain_jobs SET status = %s, message = %s, version = %s, "
                    "promoted = %s, metrics = %s, finished_at = now() WHERE job_id = %s",
                    (
                        status,
                        message,
                        version,
                        promoted,
                        json.dumps(metrics) if metrics is not None else None,
                        job_id,
                    ),
                )
        finally:
            with self._lock:
                self._running = None

    def retrain_status(self, job_id: str) -> dict[str, Any] | None:
        """A retraining job's row, or None."""
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT job_id, status, message, version, promoted, metrics, started_at, "
                "finished_at FROM model_retrain_jobs WHERE job_id = %s",
                (job_id,),
            ).fetchone()
        if row is None:
            return None
        keys = (
            "job_id",
            "status",
            "message",
            "version",
            "promoted",
            "metrics",
            "started_at",
            "finished_at",
        )
        out = dict(zip(keys, row, strict=True))
        out["job_id"] = str(out["job_id"])
        for k in ("started_at", "finished_at"):
            out[k] = out[k].isoformat() if out[k] else None
        return out

    def start(self) -> None:
        """Load the champion if there is one, then poll; never raises."""
        self.poller.refresh_all()
        self.poller.start()

    def close(self) -> None:
        """Stop polling and wait for a running retraining job."""
        self.poller.close()
        self._executor.shutdown(wait=True)


def _read_catalogue(db: Database) -> Catalogue:
    with db.connection() as conn:
        # Expired cache rows are never read again; dropping them on this timer keeps the
        # table at about one TTL's worth of lists without a separate job.
        conn.execute("DELETE FROM recommendation_cache WHERE expires_at < now()")
        return Catalogue.load(conn)


def open_events(
    db: Database,
    *,
    settings: RecommenderSettings,
    alias: str,
    poll_seconds: float,
    on_outcome: Any = None,
    on_error: Any = None,
) -> EventsRuntime:
    """Build and start the events runtime (the app's lifespan calls this)."""
    uri = mlflow_tracking_uri(settings)
    kwargs = {"on_outcome": on_outcome} if on_outcome else {}
    catalogue = TtlCache(settings.rec_catalogue_refresh_seconds, lambda: _read_catalogue(db))
    slot = EventsSlot(
        settings.events_model_name, alias, MlflowRegistry(uri), uri, catalogue.get, **kwargs
    )
    poller = ModelPoller([slot], poll_seconds, on_error=on_error)
    runtime = EventsRuntime(settings=settings, db=db, slot=slot, poller=poller, catalogue=catalogue)
    runtime.start()
    return runtime

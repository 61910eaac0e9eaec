"""Operational gauges the alert rules need: readiness, model age, drift, refresh, experiments."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from services.core.heartbeat import EMBED_REFRESH, last_success
from services.core.storage import Storage, join

if TYPE_CHECKING:
    from services.serving.context import ServingContext

log = logging.getLogger(__name__)

#: Jobs whose last success is exported (services/core/heartbeat.py markers).
JOBS = (EMBED_REFRESH,)


def readiness(ctx: ServingContext) -> tuple[bool, str | None]:
    """What /ready answers: ready, or not with the reason."""
    if ctx.encoder is None or ctx.answerer is None:
        return False, "encoder not loaded"
    if ctx.db is None or not ctx.db.ping(ctx.settings.ready_timeout):
        return False, "database unavailable"
    return True, None


class _Cached:
    """A value recomputed at most every `ttl` seconds (storage listings, experiment queries)."""

    def __init__(self, compute: Callable[[], list[GaugeMetricFamily]], ttl: float) -> None:
        self._compute = compute
        self._ttl = ttl
        self._lock = threading.Lock()
        self._at = float("-inf")
        self._value: list[GaugeMetricFamily] = []

    def get(self) -> list[GaugeMetricFamily]:
        with self._lock:
            if time.monotonic() - self._at >= self._ttl:
                try:
                    self._value = self._compute()
                except Exception as exc:  # a scrape must never take the endpoint down
                    log.warning("ops metrics failed", extra={"error": type(exc).__name__})
                    self._value = []
                self._at = time.monotonic()
            return self._value


class OpsCollector(Collector):
    """Read at scrape time: cheap signals every scrape, storage and SQL ones at most every `ttl`.

    The drift job is a batch job; the API re-exports the latest check's gauges (the job's own
    metrics.prom) so one Prometheus scrape sees them with no textfile collector or pushgateway.
    """

    def __init__(
        self, context: ServingContext, reports_uri: str, storage_uri: str, ttl: float = 30.0
    ) -> None:
        self._ctx = context
        self._reports_uri = reports_uri
        self._storage_uri = storage_uri
        self._storage = Storage(context.settings.aws_region)
        self._ready = False
        # Cached apart, so a database outage does not hide the drift and refresh gauges.
        self._slow = [_Cached(f, ttl) for f in (self._drift, self._jobs, self._experiments)]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the gauges (called by the registry on every scrape)."""
        ready = GaugeMetricFamily("beacon_ready", "1 when /ready would answer 200.")
        self._ready = readiness(self._ctx)[0]
        ready.add_metric([], 1.0 if self._ready else 0.0)
        yield ready
        yield self._trained()
        for cached in self._slow:
            yield from cached.get()

    def describe(self) -> list:
        """Nothing up front: avoids storage and database reads at registration."""
        return []

    def _trained(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "beacon_model_trained_timestamp_seconds",
            "When the served version of each registry model was trained (Unix time).",
            labels=["model"],
        )
        models = self._ctx.models
        for slot in models.slots().values() if models is not None else []:
            current = slot.current
            stamp = _timestamp(current.trained_at) if current is not None else None
            if stamp is not None:
                family.add_metric([current.name], stamp)
        return family

    def _drift(self) -> list[GaugeMetricFamily]:
        from services.serving.signals import PROMETHEUS, drift_checks, latest_by_model

        checked = GaugeMetricFamily(
            "beacon_drift_last_check_timestamp_seconds",
            "When the latest drift check of each model finished (Unix time).",
            labels=["workload"],
        )
        families: dict[str, GaugeMetricFamily] = {}
        for model, check in sorted(
            latest_by_model(drift_checks(self._reports_uri, self._storage)).items()
        ):
            checked.add_metric([model], check.checked_at)
            uri = join(check.folder, PROMETHEUS)
            if not self._storage.exists(uri):
                continue
            text = self._storage.read_bytes(uri).decode()
            for parsed in text_string_to_metric_families(text):
                family = families.setdefault(
                    parsed.name,
                    GaugeMetricFamily(
                        parsed.name, parsed.documentation, labels=["workload", "model_version"]
                    ),
                )
                for sample in parsed.samples:
                    labels = sample.labels
                    family.add_metric(
                        [labels.get("workload", model), labels.get("model_version", "")],
                        sample.value,
                    )
        return [checked, *families.values()]

    def _jobs(self) -> list[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "beacon_job_last_success_timestamp_seconds",
            "When each batch job last succeeded (Unix time).",
            labels=["job"],
        )
        for job in JOBS:
            stamp = last_success(self._storage_uri, job, self._storage)
            if stamp is not None:
                family.add_metric([job], stamp)
        return [family]

    def _experiments(self) -> list[GaugeMetricFamily]:
        from services.serving.signals import experiment_results

        exposures = GaugeMetricFamily(
            "beacon_experiment_exposures",
            "Users exposed per variant of each running experiment.",
            labels=["experiment", "variant"],
        )
        conversions = GaugeMetricFamily(
            "beacon_experiment_conversions",
            "Users converted (the goal or a deeper action) per variant of each running experiment.",
            labels=["experiment", "variant"],
        )
        srm = GaugeMetricFamily(
            "beacon_experiment_srm_p_value",
            "Chi-square p-value of exposures against the configured weights (low: mismatch).",
            labels=["experiment"],
        )
        db = self._ctx.db
        if db is None or not self._ready:
            # Not ready: the ping just waited out the pool timeout; a query would wait again
            # and push the scrape past Prometheus' scrape timeout (the API would look down).
            return [exposures, conversions, srm]
        with db.connection() as conn:
            results = experiment_results(conn)
        for result in results:
            name = result["experiment"]["experiment_id"]
            for variant in result["variants"]:
                exposures.add_metric([name, variant["name"]], float(variant["exposures"]))
                conversions.add_metric([name, variant["name"]], float(variant["conversions"]))
            srm.add_metric([name], float(result["sample_ratio"]["p_value"]))
        return [exposures, conversions, srm]


def _timestamp(value: Any) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None

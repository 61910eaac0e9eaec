"""Prometheus metrics of the API: requests, latency, documents, embeddings and served models."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.core.database import Database
from services.core.errors import DatabaseUnavailable
from services.jobs.store import document_counts

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class DocumentCollector(Collector):
    """Document and embedded-document counts, read from the database at scrape time.

    Counted on scrape rather than kept as a gauge because the embeddings job, not this
    process, writes the rows; but at most once per `ttl` seconds, so frequent scrapes (or
    anyone calling /metrics in a loop) cannot turn into a stream of full-table counts. A
    scrape during an outage reports database_up 0 instead of failing.
    """

    def __init__(
        self, database: Callable[[], Database | None], ttl: float = 30.0, ping_timeout: float = 0.5
    ) -> None:
        self._database = database
        self._ttl = ttl
        # Short: the readiness gauge pings too, and the whole scrape must stay well inside
        # Prometheus' scrape timeout during an outage, or the API would look down, not unready.
        self._ping_timeout = ping_timeout
        self._lock = threading.Lock()
        self._rows: list[tuple[str, int, int]] = []
        self._read_at = float("-inf")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the gauges (called by the registry on every scrape)."""
        up = GaugeMetricFamily("beacon_database_up", "1 when the database answered the scrape.")
        docs = GaugeMetricFamily("beacon_documents", "Stored documents by kind.", labels=["kind"])
        embedded = GaugeMetricFamily(
            "beacon_documents_embedded", "Documents with an embedding, by kind.", labels=["kind"]
        )
        db = self._database()
        # Up-ness is checked on every scrape (a SELECT 1); only the counts are cached.
        alive = db is not None and db.ping(timeout=self._ping_timeout)
        rows = self._counts() if alive else []
        up.add_metric([], 1.0 if alive else 0.0)
        for kind, total, with_vector in rows:
            docs.add_metric([kind], float(total))
            embedded.add_metric([kind], float(with_vector))
        yield up
        yield docs
        yield embedded

    def _counts(self) -> list[tuple[str, int, int]]:
        with self._lock:  # concurrent scrapes share one query
            if time.monotonic() - self._read_at < self._ttl:
                return self._rows
            self._rows = self._query()
            # An outage is re-checked on the next scrape; counts are reused for the TTL.
            self._read_at = time.monotonic() if self._rows else float("-inf")
            return self._rows

    def _query(self) -> list[tuple[str, int, int]]:
        db = self._database()
        if db is None:
            return []
        try:
            with db.connection(timeout=2.0) as conn:
                conn.execute("SET LOCAL statement_timeout = '2s'")
                return [(kind, n, e) for kind, (n, e) in document_counts(conn).items()]
        except DatabaseUnavailable:
            return []
        except Exception as exc:  # a scrape must never take the endpoint down
            log.warning("document counts failed", extra={"error": type(exc).__name__})
            return []

    def describe(self) -> list:
        """Nothing up front: avoids a database query when the collector is registered."""
        return []


class Metrics:
    """One registry per app, so several apps in one process (tests) do not collide."""

    def __init__(self, database: Callable[[], Database | None]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "beacon_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "beacon_http_request_duration_seconds",
            "HTTP request latency by route template, method and status.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.model_loads = Counter(
            "beacon_model_loads",
            "Decided model-version loads by model and outcome "
            "(swapped, refused_load, refused_smoke, refused_tags).",
            ["model", "outcome"],
            registry=self.registry,
        )
        self.model_version = Gauge(
            "beacon_model_served_version",
            "Registry version number currently served, by model.",
            ["model"],
            registry=self.registry,
        )
        self.registry_errors = Counter(
            "beacon_model_registry_errors",
            "Failed checks of the model registry (the served version stays), by model.",
            ["model"],
            registry=self.registry,
        )
        self.predictions = Counter(
            "beacon_model_predictions",
            "Records scored, by model.",
            ["model"],
            registry=self.registry,
        )
        self.prediction_log = Counter(
            "beacon_prediction_log_records",
            "Predictions sent to the prediction log, by outcome (written, dropped_queue_full, "
            "dropped_database_error, rejected_invalid).",
            ["outcome"],
            registry=self.registry,
        )
        self.registry.register(DocumentCollector(database))

    def model_outcome(self, model: str, outcome: str, version: str) -> None:
        """Count a decided load; a swap also updates the served-version gauge."""
        self.model_loads.labels(model, outcome).inc()
        if outcome == "swapped" and version.isdigit():
            self.model_version.labels(model).set(int(version))

    def registry_error(self, model: str) -> None:
        """Count a registry check that failed."""
        self.registry_errors.labels(model).inc()

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        labels = (route, method, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

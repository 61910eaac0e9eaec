"""Prediction logging off the request path: a bounded queue drained by one writer thread."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from services.core.database import Database
from services.serving.metrics import Metrics

log = logging.getLogger(__name__)

#: Rows per COPY; a batch is also written when the flush interval passes.
BATCH_ROWS = 1000
_STOP = object()


class PredictionLog:
    """Records predictions without ever delaying or failing a request.

    `record` only enqueues. The writer thread COPYs batches into `prediction_log`. When the
    queue is full, or the database is down, records are dropped and counted in
    `beacon_prediction_log_records{outcome="dropped_..."}` rather than queued without limit:
    drift checks need a representative sample, not every row, and an outage must not grow the
    API's memory.
    """

    def __init__(
        self, db: Database, metrics: Metrics, *, max_queue: int, flush_seconds: float
    ) -> None:
        self._db = db
        self._metrics = metrics
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._flush_seconds = flush_seconds
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def record(
        self, model_name: str, version: str, records: Sequence[Any], scores: np.ndarray
    ) -> None:
        """Enqueue one request's predictions (pydantic records are dumped by the writer)."""
        item = (datetime.now(UTC), model_name, version, records, scores)
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._metrics.prediction_log.labels("dropped_queue_full").inc(len(records))

    def close(self) -> None:
        """Write what is queued, then stop the writer."""
        self._queue.put(_STOP)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        pending: list[tuple] = []
        rows = 0
        while True:
            try:
                item = self._queue.get(timeout=self._flush_seconds)
            except queue.Empty:
                item = None
            if item is not None and item is not _STOP:
                pending.append(item)
                rows += len(item[3])
                if rows < BATCH_ROWS:
                    continue
            if pending:
                self._write(pending, rows)
                pending, rows = [], 0
            if item is _STOP:
                return

    def _write(self, pending: list[tuple], count: int) -> None:
        try:
            rows = [
                (at, name, version, json.dumps(_features(record)), float(score))
                for at, name, version, records, scores in pending
                for record, score in zip(records, scores, strict=True)
            ]
            with (
                self._db.connection() as conn,
                conn.cursor() as cur,
                cur.copy(
                    "COPY prediction_log (predicted_at, model_name, model_version, features, "
                    "score) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        except Exception as exc:  # an outage costs log rows, never requests or the writer
            self._metrics.prediction_log.labels("dropped_database_error").inc(count)
            log.warning(
                "prediction log batch dropped", extra={"rows": count, "error": type(exc).__name__}
            )
            return
        self._metrics.prediction_log.labels("written").inc(count)


def _features(record: Any) -> dict[str, Any]:
    return record.model_dump() if hasattr(record, "model_dump") else dict(record)

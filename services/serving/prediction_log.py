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
import psycopg

from services.core.database import Database
from services.serving.metrics import Metrics

log = logging.getLogger(__name__)

#: Rows per COPY; a batch is also written when the flush interval passes.
BATCH_ROWS = 1000
_COLUMNS = "predicted_at, model_name, model_version, features, score"
_COPY_SQL = f"COPY prediction_log ({_COLUMNS}) FROM STDIN"
_INSERT_SQL = f"INSERT INTO prediction_log ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s)"
_STOP = object()


class PredictionLog:
    """Records predictions without ever delaying or failing a request.

    `record` only enqueues. The writer thread COPYs batches into `prediction_log`. When the
    queue is full, or the database is down, records are dropped and counted in
    `beacon_prediction_log_records{outcome="dropped_..."}` rather than queued without limit:
    a record the database would refuse is left out and counted as `rejected_invalid`, so it
    never costs the other rows of its batch.
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
        rows: list[tuple] = []
        rejected = 0
        for at, name, version, records, scores in pending:
            for record, score in zip(records, scores, strict=True):
                row = _row(at, name, version, record, score)
                if row is None:
                    rejected += 1
                else:
                    rows.append(row)
        if rejected:
            self._reject(rejected)
        if not rows:
            return
        try:
            self._copy(rows)
        except psycopg.OperationalError as exc:  # an outage costs log rows, never requests
            self._drop(len(rows), exc)
            return
        except Exception:
            # A row the database refused despite the checks in _row: write the batch row by
            # row so that one record never takes the others with it.
            self._write_one_by_one(rows)
            return
        self._metrics.prediction_log.labels("written").inc(len(rows))

    def _copy(self, rows: list[tuple]) -> None:
        with (
            self._db.connection() as conn,
            conn.cursor() as cur,
            cur.copy(_COPY_SQL) as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def _write_one_by_one(self, rows: list[tuple]) -> None:
        written = rejected = 0
        try:
            with self._db.connection() as conn:
                for row in rows:
                    try:
                        with conn.transaction():
                            conn.execute(_INSERT_SQL, row)
                        written += 1
                    except psycopg.OperationalError:
                        raise
                    except psycopg.Error:
                        rejected += 1
        except Exception as exc:
            self._drop(len(rows) - written - rejected, exc)
        self._metrics.prediction_log.labels("written").inc(written)
        if rejected:
            self._reject(rejected)

    def _reject(self, count: int) -> None:
        self._metrics.prediction_log.labels("rejected_invalid").inc(count)
        # Counts only: the record itself is health data and never logged.
        log.warning("prediction log rows rejected", extra={"rows": count})

    def _drop(self, count: int, exc: BaseException) -> None:
        self._metrics.prediction_log.labels("dropped_database_error").inc(count)
        log.warning(
            "prediction log batch dropped", extra={"rows": count, "error": type(exc).__name__}
        )


def _features(record: Any) -> dict[str, Any]:
    return record.model_dump() if hasattr(record, "model_dump") else dict(record)


def _row(at: datetime, name: str, version: str, record: Any, score: Any) -> tuple | None:
    """The row to COPY, or None for a record PostgreSQL would refuse (and fail the batch for).

    jsonb refuses the escaped NUL (\\u0000) and text refuses NUL; a non-finite score is
    not a prediction. The request schema already refuses these; this is the writer's guard.
    """
    try:
        features = json.dumps(_features(record), allow_nan=False)
        value = float(score)
    except (TypeError, ValueError):
        return None
    if "\\u0000" in features or "\x00" in name or "\x00" in version or value != value:
        return None
    return (at, name, version, features, value)

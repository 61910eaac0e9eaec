"""One served model: the version an alias points at, swapped in only after a smoke prediction."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from services.core.errors import Unavailable
from services.mlops.registry import TAG_FAMILY, TAG_THRESHOLD, TAG_TRAINED_AT
from services.serving.model_registry.source import RegistrySource, VersionInfo

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.5
#: Run metrics reported by /v1/model/info (held-out scores, not every logged number).
REPORTED_METRIC_PREFIX = "test_"


class NoModel(Unavailable):
    """No version of a served model is loaded (none has the alias yet, or none loaded)."""


class ModelRefused(Exception):
    """A new version failed to load, to score the smoke record, or carries bad tags."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage = stage
        self.reason = reason


@dataclass(frozen=True)
class ServedModel:
    """A loaded version; immutable, so a request holding it is unaffected by a swap."""

    name: str
    version: str
    alias: str
    estimator: Any
    threshold: float
    trained_at: str | None
    model_family: str | None
    metrics: dict[str, float]
    run_id: str | None
    loaded_at: str
    threads: Any = field(default=None, repr=False, compare=False)

    def predict_proba(self, frame: Any) -> np.ndarray:
        """P(positive class) per row of `frame`, computed on the calling thread only."""
        return _predict_single_threaded(self.estimator, frame, self.threads)

    def describe(self) -> dict[str, Any]:
        """What /v1/model/info shows for this version."""
        return {
            "name": self.name,
            "version": self.version,
            "alias": self.alias,
            "trained_at": self.trained_at,
            "model_family": self.model_family,
            "threshold": self.threshold,
            "metrics": self.metrics,
            "run_id": self.run_id,
            "loaded_at": self.loaded_at,
        }


@dataclass(frozen=True)
class Refusal:
    """A version that was not swapped in, and why."""

    version: str
    stage: str
    reason: str
    at: str


#: Called with (model name, outcome, version) when a load attempt decided something.
OutcomeHook = Callable[[str, str, str], None]


def _ignore(name: str, outcome: str, version: str) -> None:
    return None


def thread_controller() -> Any:
    """A threadpoolctl controller over the native thread pools loaded now (create it after
    loading a model, so the model's libraries are included)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _predict_single_threaded(estimator: Any, frame: Any, threads: Any) -> np.ndarray:
    # The API parallelises across requests. OpenMP inside one small prediction (histogram
    # gradient boosting) only adds spinning workers: measured 98 ms instead of 4 ms for one
    # row on a busy 2-core machine. libgomp keeps this limit per thread, so concurrent
    # requests on other threads are unaffected; setting and restoring it costs ~15 us.
    if threads is None:
        return np.asarray(estimator.predict_proba(frame))[:, 1]
    with threads.limit(limits=1, user_api="openmp"):
        return np.asarray(estimator.predict_proba(frame))[:, 1]


def check_probabilities(probability: np.ndarray, rows: int) -> None:
    """Raise ValueError unless there is one finite probability in [0, 1] per row."""
    if probability.shape != (rows,):
        raise ValueError(f"expected {rows} probabilities, got shape {probability.shape}")
    if not np.all(np.isfinite(probability)) or probability.min() < 0 or probability.max() > 1:
        raise ValueError("probabilities must be finite and within [0, 1]")


def _threshold(info: VersionInfo) -> float:
    raw = info.tags.get(TAG_THRESHOLD)
    if raw is None:
        return DEFAULT_THRESHOLD
    try:
        value = float(raw)
    except ValueError:
        raise ModelRefused("tags", f"{TAG_THRESHOLD}={raw!r} is not a number") from None
    if not (0.0 <= value <= 1.0) or math.isnan(value):
        raise ModelRefused("tags", f"{TAG_THRESHOLD}={raw!r} is outside [0, 1]")
    return value


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ModelSlot:
    """Holds the served version of one registered model and replaces it when the alias moves.

    Readers take `current` once per request and use that object throughout, so a swap never
    changes a model under a running request. The swap itself is one reference assignment,
    made only after the new version loaded and scored the smoke frame; a version that fails
    is remembered and not retried until the alias moves again.
    """

    def __init__(
        self,
        name: str,
        alias: str,
        source: RegistrySource,
        smoke_frame: Callable[[], Any],
        *,
        missing_hint: str,
        on_outcome: OutcomeHook = _ignore,
    ) -> None:
        self.name = name
        self.alias = alias
        self.source = source
        self.smoke_frame = smoke_frame
        self.missing_hint = missing_hint
        self.on_outcome = on_outcome
        self.last_refusal: Refusal | None = None
        self.last_checked: str | None = None
        self.last_error: str | None = None
        self._current: ServedModel | None = None
        self._refused: str | None = None  # the version the alias pointed at when refused
        self._refresh_lock = threading.Lock()  # one refresh at a time; readers never take it

    @property
    def current(self) -> ServedModel | None:
        """The served version, or None before the first successful load."""
        return self._current

    def require(self) -> ServedModel:
        """The served version, or NoModel (HTTP 503) with what to do about it."""
        model = self._current
        if model is None:
            raise NoModel(f"no {self.alias} model for {self.name!r} yet: {self.missing_hint}")
        return model

    def refresh(self) -> str:
        """Look the alias up once; load, smoke-test and swap if it moved.

        Returns the outcome: `absent`, `unchanged`, `refused` (now or earlier) or `swapped`.
        Registry errors (server down) propagate; the caller logs them and keeps serving.
        """
        with self._refresh_lock:
            info = self.source.resolve(self.name, self.alias)
            self.last_checked = _now()
            current = self._current
            if info is None:
                if current is not None:
                    log.warning(
                        "alias removed; still serving the loaded version",
                        extra={"model": self.name, "alias": self.alias, "version": current.version},
                    )
                return "absent"
            if current is not None and info.version == current.version:
                self._refused = None
                return "unchanged"
            if info.version == self._refused:
                return "refused"
            try:
                candidate = self._load(info)
            except ModelRefused as exc:
                self._refuse(info, exc)
                return "refused"
            self._current = candidate
            self._refused, self.last_refusal = None, None
            log.info(
                "model swapped in",
                extra={
                    "model": self.name,
                    "version": candidate.version,
                    "previous": current.version if current else None,
                },
            )
            self.on_outcome(self.name, "swapped", candidate.version)
            return "swapped"

    def load_estimator(self, info: VersionInfo) -> Any:
        """The version's model object (subclasses load other kinds of artifact)."""
        return self.source.load(info)

    def smoke_test(self, estimator: Any) -> Any:
        """Raise unless the model scores the smoke frame; returns its thread controller."""
        threads = thread_controller()
        frame = self.smoke_frame()
        probability = _predict_single_threaded(estimator, frame, threads)
        check_probabilities(probability, len(frame))
        return threads

    def threshold(self, info: VersionInfo) -> float:
        """The decision threshold the version was registered with."""
        return _threshold(info)

    def _load(self, info: VersionInfo) -> ServedModel:
        threshold = self.threshold(info)
        started = time.perf_counter()
        try:
            estimator = self.load_estimator(info)
        except Exception as exc:
            raise ModelRefused("load", f"{type(exc).__name__}: {_first_line(exc)}") from exc
        try:
            threads = self.smoke_test(estimator)
        except Exception as exc:
            raise ModelRefused("smoke", f"{type(exc).__name__}: {_first_line(exc)}") from exc
        log.info(
            "model version loaded and smoke-tested",
            extra={
                "model": info.name,
                "version": info.version,
                "seconds": round(time.perf_counter() - started, 3),
            },
        )
        return ServedModel(
            name=info.name,
            version=info.version,
            alias=info.alias,
            estimator=estimator,
            threshold=threshold,
            trained_at=info.tags.get(TAG_TRAINED_AT),
            model_family=info.tags.get(TAG_FAMILY),
            metrics={
                k: v
                for k, v in sorted(info.metrics.items())
                if k.startswith(REPORTED_METRIC_PREFIX)
            },
            run_id=info.run_id,
            loaded_at=_now(),
            threads=threads,
        )

    def _refuse(self, info: VersionInfo, exc: ModelRefused) -> None:
        self._refused = info.version
        self.last_refusal = Refusal(info.version, exc.stage, exc.reason, _now())
        served = self._current.version if self._current else None
        log.error(
            "model version refused; keeping the served version",
            extra={
                "model": self.name,
                "version": info.version,
                "stage": exc.stage,
                "reason": exc.reason,
                "served_version": served,
            },
        )
        self.on_outcome(self.name, f"refused_{exc.stage}", info.version)

    def describe(self) -> dict[str, Any]:
        """/v1/model/info's entry: the served version (or why there is none) and any refusal."""
        model = self._current
        out: dict[str, Any] = (
            model.describe()
            if model is not None
            else {"name": self.name, "version": None, "alias": self.alias}
        )
        out["status"] = "serving" if model is not None else "no_model"
        if self.last_refusal is not None:
            r = self.last_refusal
            out["refused"] = {
                "version": r.version,
                "stage": r.stage,
                "reason": r.reason,
                "at": r.at,
            }
        return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else ""

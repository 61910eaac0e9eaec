"""One time-to-live cache for values that change rarely and cost a query to read.

The reload rule, the same for every cached value:
- the first `get` waits for the first load (there is nothing to serve yet);
- a value is fresh for `ttl_seconds` after its load finished;
- when it is stale, one caller reloads it while concurrent callers keep getting the previous
  value (a slow reload never stalls requests behind a lock);
- a failed reload raises to the caller that ran it and keeps the previous value, so the next
  call tries again;
- `invalidate()` drops the value: the next `get` waits for a fresh load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TtlCache(Generic[T]):
    """A value re-read at most every `ttl_seconds` (see the module docstring for the rule)."""

    def __init__(self, ttl_seconds: float, load: Callable[[], T] | None = None) -> None:
        if ttl_seconds < 0:
            raise ValueError(f"ttl_seconds must be >= 0, got {ttl_seconds}")
        self.ttl_seconds = ttl_seconds
        self._load = load
        self._value: tuple[T, float] | None = None  # (value, monotonic time its load finished)
        self._lock = threading.Lock()

    def get(self, load: Callable[[], T] | None = None) -> T:
        """The cached value, loading it with `load` (or the cache's own loader) when needed."""
        loader = load or self._load
        if loader is None:
            raise TypeError("TtlCache.get needs a loader: pass one here or to the constructor")
        current = self._value
        if current is not None and time.monotonic() - current[1] < self.ttl_seconds:
            return current[0]
        if current is not None and not self._lock.acquire(blocking=False):
            return current[0]  # another caller is reloading it
        if current is None:
            self._lock.acquire()
        try:
            latest = self._value
            # Someone else may have loaded it while this caller waited for the lock.
            if latest is not None and latest is not current:
                return latest[0]
            value = loader()
            self._value = (value, time.monotonic())
            return value
        finally:
            self._lock.release()

    def invalidate(self) -> None:
        """Make the next `get` wait for a fresh load."""
        self._value = None

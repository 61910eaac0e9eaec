"""Encode slots: a bounded number of batches run at once, the cheapest waiting batch goes next."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from services.core.errors import Unavailable


class EncoderBusy(Unavailable):
    """No encode slot freed up within the queue timeout; the caller should retry later."""


class EncodeSlots:
    """A semaphore that hands a freed slot to the waiting batch with the lowest cost.

    A plain lock lets whoever grabs it first run, so three clients encoding long texts batch
    after batch can hold it almost continuously. Here a releasing thread hands its slot
    straight to the cheapest waiter (ties in arrival order): a short query waits for at most
    the batches already running, never behind a queue of long ones. Waiting is bounded; past
    `timeout` the request fails with EncoderBusy (a 503 with Retry-After in the API).
    """

    def __init__(self, slots: int, timeout: float) -> None:
        if slots < 1:
            raise ValueError("slots must be positive")
        self.timeout = timeout
        self._free = slots
        self._lock = threading.Lock()
        self._waiting: list[tuple[int, int, threading.Event]] = []
        self._order = itertools.count()

    @contextmanager
    def slot(self, cost: int) -> Iterator[None]:
        """Hold one slot for the block; `cost` (padded tokens) orders the waiters."""
        self._acquire(cost)
        try:
            yield
        finally:
            self._release()

    def _acquire(self, cost: int) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            granted = threading.Event()
            heapq.heappush(self._waiting, (cost, next(self._order), granted))
        if granted.wait(self.timeout):
            return
        with self._lock:
            if granted.is_set():  # handed over just as the wait timed out
                return
            self._waiting = [w for w in self._waiting if w[2] is not granted]
            heapq.heapify(self._waiting)
        raise EncoderBusy(f"the encoder is busy (no slot within {self.timeout:g}s); retry shortly")

    def _release(self) -> None:
        with self._lock:
            if self._waiting:
                # The slot passes directly to the waiter, so no new arrival can barge in.
                heapq.heappop(self._waiting)[2].set()
            else:
                self._free += 1

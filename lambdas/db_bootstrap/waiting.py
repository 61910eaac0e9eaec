"""Retry with capped exponential backoff until a deadline: waiting for the database to answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeoutError(TimeoutError):
    """The operation kept failing until the deadline."""


def backoff_delays(initial_s: float, max_s: float) -> Callable[[int], float]:
    """Delay before attempt n+1 after n failures: initial, 2x, 4x ... capped at max_s."""

    def delay(failures: int) -> float:
        return min(max_s, initial_s * (2 ** max(0, failures - 1)))

    return delay


def wait_for(
    attempt: Callable[[], T],
    *,
    timeout_s: float,
    initial_backoff_s: float = 2.0,
    max_backoff_s: float = 30.0,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    on_retry: Callable[[int, BaseException, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call `attempt` until it returns; retry `retry_on` errors until `timeout_s` has passed.

    The last error is chained to the WaitTimeoutError so logs show why the database never
    answered (DNS not yet resolvable, security group, wrong password ...).
    """
    deadline = clock() + timeout_s
    delay = backoff_delays(initial_backoff_s, max_backoff_s)
    failures = 0
    while True:
        try:
            return attempt()
        except retry_on as error:
            failures += 1
            pause = delay(failures)
            remaining = deadline - clock()
            if remaining <= 0:
                raise WaitTimeoutError(
                    f"gave up after {failures} attempts in {timeout_s:.0f}s: {error}"
                ) from error
            pause = min(pause, remaining)
            if on_retry is not None:
                on_retry(failures, error, pause)
            sleep(pause)

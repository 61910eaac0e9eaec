"""The one TTL cache: its reload rule (first load waits, stale value served while one reloads)."""

from __future__ import annotations

import threading

import pytest

from services.mlops.cache import TtlCache


def test_fresh_value_is_reused_and_zero_ttl_reloads():
    loads = []
    cache = TtlCache(3600, lambda: loads.append(1) or len(loads))
    assert cache.get() == 1
    assert cache.get() == 1
    assert len(loads) == 1
    always = TtlCache(0, lambda: loads.append(1) or len(loads))
    assert always.get() == 2
    assert always.get() == 3


def test_invalidate_forces_a_fresh_load():
    counter = iter(range(10))
    cache = TtlCache(3600)
    assert cache.get(lambda: next(counter)) == 0
    cache.invalidate()
    assert cache.get(lambda: next(counter)) == 1


def test_stale_value_is_served_while_one_caller_reloads():
    cache: TtlCache[str] = TtlCache(0)
    cache.get(lambda: "old")
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(10)
        return "new"

    result: list[str] = []
    reloader = threading.Thread(target=lambda: result.append(cache.get(slow)))
    reloader.start()
    assert started.wait(10)
    # The reload is in progress: other callers get the previous value, not a wait.
    assert cache.get(lambda: pytest.fail("a second reload must not start")) == "old"
    release.set()
    reloader.join(10)
    assert result == ["new"]


def test_failed_reload_raises_and_keeps_the_previous_value():
    cache: TtlCache[str] = TtlCache(0)
    cache.get(lambda: "old")

    def broken() -> str:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError, match="database down"):
        cache.get(broken)
    assert cache.get(lambda: "again") == "again"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="ttl_seconds"):
        TtlCache(-1)
    with pytest.raises(TypeError, match="loader"):
        TtlCache(1).get()

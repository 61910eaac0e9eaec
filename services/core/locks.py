"""Advisory locks that keep two runs of the same job from overlapping."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from services.core.errors import JobAlreadyRunning


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a job name (hash() is salted per process, so not that)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def job_lock(url: str, name: str) -> Iterator[None]:
    """Hold a session advisory lock named `name` on a dedicated connection for the block.

    The lock lives on its own connection so it survives the job's per-batch commits, and the
    server releases it by itself if the process dies.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(name),)).fetchone()
        if not got or not got[0]:
            raise JobAlreadyRunning(f"another {name!r} run is in progress; try again later")
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(name),))


@contextmanager
def serial_lock(url: str, name: str) -> Iterator[None]:
    """Wait for, then hold, `name`'s advisory lock: a step that concurrent runs take in turn."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (lock_key(name),))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(name),))

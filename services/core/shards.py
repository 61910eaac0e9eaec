"""Shards of a job: `I/N` or `auto` (from the SageMaker Processing environment), and the SQL split.

A document belongs to shard `bucket(id) % N` where `bucket` is a hash of its id modulo
BUCKETS, computed in PostgreSQL (md5, so stable across processes, machines and releases).
Advisory locks are taken per bucket: shards of one layout own disjoint buckets and run side
by side, while two runs whose shares overlap (the same shard twice, or layouts of different N)
collide on at least one bucket and the later one is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from services.core.errors import InputError, JobAlreadyRunning
from services.core.locks import lock_key

#: Fine-grained hash buckets; a shard owns the buckets b with b % N == I, so N <= BUCKETS.
BUCKETS = 256
#: Where SageMaker Processing describes the cluster to each instance (`current_host`, `hosts`).
RESOURCE_CONFIG = Path("/opt/ml/config/resourceconfig.json")


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (0-based); `Shard(0, 1)` is the whole set."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.count <= BUCKETS:
            raise InputError(f"shard count must be between 1 and {BUCKETS}, not {self.count}")
        if not 0 <= self.index < self.count:
            raise InputError(f"shard index must be in 0..{self.count - 1}, not {self.index}")

    @property
    def whole(self) -> bool:
        """True for the unsharded run (one shard of one)."""
        return self.count == 1

    @property
    def buckets(self) -> list[int]:
        """The hash buckets this shard owns."""
        return [b for b in range(BUCKETS) if b % self.count == self.index]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


#: The unsharded run.
WHOLE = Shard(0, 1)


def parse_shard(text: str, option: str = "--shard", config: Path | None = None) -> Shard:
    """`I/N` (0-based) or `auto`; errors name `option` so the user knows what to fix."""
    value = text.strip()
    if value == "auto":
        return processing_shard(config or RESOURCE_CONFIG, option)
    index, sep, count = value.partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit():
        raise InputError(f"{option} must be I/N (for example 0/4) or auto, not {text!r}")
    try:
        return Shard(int(index), int(count))
    except InputError as exc:
        raise InputError(f"{option} {text}: {exc}") from None


def processing_shard(config: Path = RESOURCE_CONFIG, option: str = "--shard") -> Shard:
    """This instance's shard in a SageMaker Processing job of InstanceCount N.

    Processing writes `{"current_host": "algo-2", "hosts": ["algo-1", "algo-2", ...]}` on
    every instance; the position of `current_host` in the sorted hosts is the index.
    """
    where = f"{option} auto"
    if not config.is_file():
        raise InputError(f"{where}: {config} not found (not in a SageMaker Processing job?)")
    try:
        data = json.loads(config.read_text())
        hosts = sorted(str(h) for h in data["hosts"])
        current = str(data["current_host"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{where}: {config} lacks current_host/hosts ({exc})") from None
    if current not in hosts:
        raise InputError(f"{where}: current_host {current!r} is not among hosts {hosts}")
    return Shard(hosts.index(current), len(hosts))


def shard_condition(id_column: str, shard: Shard) -> sql.Composable:
    """A WHERE condition selecting the documents of `shard` (TRUE for the whole set)."""
    if shard.whole:
        return sql.SQL("TRUE")
    # 60 bits of md5 fit a bigint without a sign; modulo BUCKETS then N gives the shard.
    return sql.SQL(
        # mod(), not %: the condition is spliced into queries that carry %s placeholders.
        "mod(mod(('x' || substr(md5({col}::text), 1, 15))::bit(60)::bigint, {buckets}), {count})"
        " = {index}"
    ).format(
        col=sql.Identifier(id_column),
        buckets=sql.Literal(BUCKETS),
        count=sql.Literal(shard.count),
        index=sql.Literal(shard.index),
    )


def bucket_of(doc_id: str) -> int:
    """The bucket of one id, as the SQL computes it (for tests and tools)."""
    import hashlib

    return int(hashlib.md5(doc_id.encode(), usedforsecurity=False).hexdigest()[:15], 16) % BUCKETS


def shard_of(doc_id: str, count: int) -> int:
    """The shard (of `count`) that owns `doc_id`."""
    return bucket_of(doc_id) % count


@contextmanager
def shard_lock(url: str, name: str, shard: Shard) -> Iterator[None]:
    """Hold `name`'s advisory locks for `shard` for the block; refuse if a run overlaps.

    The whole run takes `name` exclusively; a shard takes it shared (so a whole run and any
    shard exclude each other) plus every bucket it owns exclusively (so overlapping shards
    exclude each other). All are session locks on a dedicated connection: a killed process
    releases them with its connection.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        if shard.whole:
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(name),)).fetchone()
        else:
            keys = [lock_key(f"{name}:bucket:{b}") for b in shard.buckets]
            got = conn.execute(
                "SELECT pg_try_advisory_lock_shared(%s)"
                " AND (SELECT bool_and(pg_try_advisory_lock(k)) FROM unnest(%s::bigint[]) k)",
                (lock_key(name), keys),
            ).fetchone()
        if not got or not got[0]:
            # Closing the connection drops whatever part of the set was taken.
            raise JobAlreadyRunning(
                f"another {name!r} run overlapping shard {shard} is in progress; try again later"
            )
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock_all()")

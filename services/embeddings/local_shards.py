"""`embed refresh --workers N`: one refresh run as N shard processes on this machine.

One refresh process already runs one-thread int8 encodes side by side, one per core
(`encoder.batch_job_threads`); on two vCPUs N processes add nothing measurable to that
(docs/capacity.md). They split a machine's share into shards, and on a large instance they keep
the work that holds Python's lock (chunking, tokenising, pooling, about 7 % of a refresh) from
capping how many cores one process can use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from services.core.errors import BeaconError, InputError
from services.core.machine import usable_cores
from services.core.shards import Shard

MAX_WORKERS = 64


def parse_workers(text: str) -> int:
    """`--workers`: a whole number 1..64, or auto for one per usable core."""
    value = text.strip()
    if value == "auto":
        return min(usable_cores(), MAX_WORKERS)
    if not value.isdigit() or not 1 <= int(value) <= MAX_WORKERS:
        raise InputError(f"--workers must be auto or a whole number 1..{MAX_WORKERS}, not {text!r}")
    return int(value)


def threads_per_worker(cores: int, workers: int) -> int:
    """Encoder threads of each of `workers` processes sharing `cores`."""
    return max(1, cores // workers)


def local_shards(base: Shard, workers: int) -> list[Shard]:
    """The `workers` shards this machine runs for its part `base` of the refresh.

    Every machine of an N-way layout splits its part the same way, so together the N x workers
    shards form one layout: disjoint, and covering every document once.
    """
    try:
        return [Shard(base.index * workers + j, base.count * workers) for j in range(workers)]
    except InputError as exc:
        raise InputError(f"--shard {base} with --workers {workers}: {exc}") from None


def spawn_shards(
    shards: list[Shard], kinds: list[str] | None, threads: int
) -> list[subprocess.Popen]:
    """Start `beacon embed refresh --shard S` for each of `shards`; the caller runs its own.

    Sources are loaded by the caller before this, so the shards only embed.
    """
    command = [sys.executable, "-m", "services.cli", "embed", "refresh"]
    for kind in kinds or []:
        command += ["--kind", kind]
    env = os.environ | {"BEACON_EMBEDDING_THREADS": str(threads)}
    return [
        # The project's own CLI, no shell; progress lines go to this process's stderr.
        subprocess.Popen(
            [*command, "--shard", str(shard)], env=env, stdout=subprocess.PIPE, text=True
        )
        for shard in shards
    ]


def wait_for_shards(procs: list[subprocess.Popen], shards: list[Shard]) -> list[dict[str, Any]]:
    """Each shard's stats once all have ended; a failed shard fails the run, naming it."""
    outputs = [proc.communicate()[0] for proc in procs]
    failed = [
        f"shard {shard} (exit {proc.returncode})"
        for shard, proc in zip(shards, procs, strict=True)
        if proc.returncode
    ]
    if failed:
        raise BeaconError(
            f"{', '.join(failed)} failed; rerun the same command to finish what they left"
        )
    return [json.loads(out[out.index("{") :]) for out in outputs]


def stop_shards(procs: list[subprocess.Popen]) -> None:
    """Terminate shards still running (the parent was interrupted); their batches are kept."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()

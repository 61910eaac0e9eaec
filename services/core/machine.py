"""What this machine offers a job: the cores it may run on."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """Cores this process may run on (a container or taskset may own fewer than the host)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1

"""A throwaway Beacon home for a bench: its embedded PostgreSQL stops before the folder goes."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def temporary_home(prefix: str) -> Iterator[Path]:
    """A temporary home folder, removed on exit after its embedded server (if any) is stopped.

    The server otherwise stops at interpreter exit, after the folder is removed: a checkpoint
    still writing WAL then breaks the removal ("Directory not empty: 'pg_wal'").
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        home = Path(tmp).resolve()
        try:
            yield home
        finally:
            if (home / "pgdata" / "postmaster.pid").exists():
                from services.core.embedded import stop_embedded

                stop_embedded(home / "pgdata")

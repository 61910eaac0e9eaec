"""Last-success markers of batch jobs in storage, read by the API's metrics and the ops page."""

from __future__ import annotations

import json
import time

from services.core.storage import Storage, join

#: Folder under the storage root holding one `<job>.json` marker per job.
STATUS_FOLDER = "status"
#: The embedding refresh's marker (`beacon embed refresh`, the demo's refresh).
EMBED_REFRESH = "embed_refresh"


def marker_uri(storage_uri: str, job: str) -> str:
    """Where `job`'s marker lives."""
    return join(storage_uri, STATUS_FOLDER, f"{job}.json")


def record_success(
    storage_uri: str, job: str, storage: Storage, *, details: dict | None = None
) -> float:
    """Write `job`'s success marker now (overwritten by each run); returns its Unix time.

    A marker rather than a database row: the job may run where the API's database is not the
    point (a quiet day changes no document), and freshness is about the run, not the data.
    """
    finished = time.time()
    document = {"job": job, "finished_at": finished, "details": details or {}}
    storage.write_bytes(marker_uri(storage_uri, job), json.dumps(document).encode())
    return finished


def last_success(storage_uri: str, job: str, storage: Storage) -> float | None:
    """Unix time of `job`'s last recorded success, or None when it never succeeded here."""
    uri = marker_uri(storage_uri, job)
    if not storage.exists(uri):
        return None
    try:
        return float(json.loads(storage.read_bytes(uri))["finished_at"])
    except (ValueError, KeyError, TypeError):
        return None

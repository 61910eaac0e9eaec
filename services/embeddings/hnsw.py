"""pgvector HNSW search settings shared by every vector query (transaction-local)."""

from __future__ import annotations

from typing import Any

import psycopg

#: Upper bound on tuples an iterative index scan visits: far above any filter's selectivity
#: need at our table sizes, but it still caps a pathological filter that matches nothing.
MAX_SCAN_TUPLES = 50_000


def set_search_params(
    conn: psycopg.Connection[Any], ef_search: int, max_scan_tuples: int = MAX_SCAN_TUPLES
) -> None:
    """Transaction-local HNSW settings, including pgvector 0.8 iterative scans.

    Without an iterative scan, HNSW returns ef_search candidates and the filter runs after the
    scan, so a selective filter leaves fewer than top_k rows. `relaxed_order` keeps scanning
    until enough rows pass; results can come slightly out of order, so callers re-sort.
    """
    conn.execute(
        "SELECT set_config('hnsw.ef_search', %s, true),"
        " set_config('hnsw.iterative_scan', 'relaxed_order', true),"
        " set_config('hnsw.max_scan_tuples', %s, true)",
        (str(ef_search), str(max_scan_tuples)),
    )

"""Incremental, crash-safe embedding refresh: embed only new, changed or stale documents."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from services.core.database import Database
from services.core.locks import job_lock
from services.embeddings.chunking import chunk_text
from services.embeddings.documents import KINDS, DocumentKind
from services.embeddings.encoder import Encoder
from services.embeddings.settings import EmbeddingSettings

log = logging.getLogger(__name__)

LOCK_NAME = "embeddings-refresh"
ProgressCallback = Callable[[str, int, int], None]


@dataclass
class KindStats:
    """What one refresh did to one document kind."""

    total: int = 0
    embedded: int = 0
    chunks: int = 0

    @property
    def unchanged(self) -> int:
        """Documents whose stored vector was already current."""
        return self.total - self.embedded


@dataclass
class RefreshStats:
    """Counts and timings of a refresh; timings split encode from database work."""

    model: str
    kinds: dict[str, KindStats] = field(default_factory=dict)
    encode_seconds: float = 0.0
    write_seconds: float = 0.0
    read_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def embedded(self) -> int:
        """Documents embedded across kinds."""
        return sum(k.embedded for k in self.kinds.values())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary for logs and the CLI."""
        return {
            "model": self.model,
            "embedded": self.embedded,
            "kinds": {
                name: {
                    "total": k.total,
                    "embedded": k.embedded,
                    "unchanged": k.unchanged,
                    "chunks": k.chunks,
                }
                for name, k in self.kinds.items()
            },
            "encode_seconds": round(self.encode_seconds, 3),
            "write_seconds": round(self.write_seconds, 3),
            "read_seconds": round(self.read_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
        }


def refresh_embeddings(
    db: Database,
    encoder: Encoder,
    settings: EmbeddingSettings,
    *,
    kinds: Iterable[str] = ("postings", "resumes"),
    progress: ProgressCallback | None = None,
) -> RefreshStats:
    """Bring every document's vector in line with its current text and the current model.

    Each batch is one transaction, so a killed run keeps its finished batches and the next run
    embeds only what is left; an advisory lock keeps two refreshes from running at once.
    """
    stats = RefreshStats(model=encoder.identity)
    started = time.perf_counter()
    with job_lock(db.url, LOCK_NAME):
        for name in kinds:
            if name not in KINDS:
                raise ValueError(f"unknown document kind {name!r}; choose from {sorted(KINDS)}")
            stats.kinds[name] = _refresh_kind(db, encoder, settings, KINDS[name], stats, progress)
    stats.wall_seconds = time.perf_counter() - started
    log.info("embedding refresh finished", extra=stats.as_dict())
    return stats


def _refresh_kind(
    db: Database,
    encoder: Encoder,
    settings: EmbeddingSettings,
    kind: DocumentKind,
    stats: RefreshStats,
    progress: ProgressCallback | None,
) -> KindStats:
    t0 = time.perf_counter()
    with db.connection() as conn:
        total = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(kind.table)))
        kind_stats = KindStats(total=total.fetchone()[0])
        pending = [row[0] for row in conn.execute(_stale_query(kind), (encoder.identity,))]
    stats.read_seconds += time.perf_counter() - t0
    if progress:
        progress(kind.name, 0, len(pending))
    for start in range(0, len(pending), settings.refresh_batch_docs):
        ids = pending[start : start + settings.refresh_batch_docs]
        kind_stats.embedded += _refresh_batch(db, encoder, settings, kind, ids, stats, kind_stats)
        if progress:
            progress(kind.name, min(start + len(ids), len(pending)), len(pending))
    return kind_stats


def _stale_query(kind: DocumentKind) -> sql.Composed:
    return sql.SQL(
        "SELECT {id} FROM {table} WHERE embedding IS NULL"
        " OR embedded_hash IS DISTINCT FROM content_hash"
        " OR embedding_model IS DISTINCT FROM %s ORDER BY {id}"
    ).format(id=sql.Identifier(kind.id_column), table=sql.Identifier(kind.table))


def _refresh_batch(
    db: Database,
    encoder: Encoder,
    settings: EmbeddingSettings,
    kind: DocumentKind,
    ids: Sequence[str],
    stats: RefreshStats,
    kind_stats: KindStats,
) -> int:
    t0 = time.perf_counter()
    query = sql.SQL("SELECT {cols}, content_hash FROM {table} WHERE {id} = ANY(%s)").format(
        cols=sql.SQL(", ").join(map(sql.Identifier, kind.text_columns)),
        table=sql.Identifier(kind.table),
        id=sql.Identifier(kind.id_column),
    )
    with db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, (list(ids),)).fetchall()
    stats.read_seconds += time.perf_counter() - t0
    if not rows:  # deleted since the stale list was read
        return 0

    t0 = time.perf_counter()
    doc_chunks = [
        chunk_text(
            kind.build_text(_text_fields(row, kind)),
            settings.chunk_words,
            settings.chunk_overlap_words,
        )
        or [""]
        for row in rows
    ]
    flat = [chunk for chunks in doc_chunks for chunk in chunks]
    vectors = encoder.encode(flat)
    stats.encode_seconds += time.perf_counter() - t0

    t0 = time.perf_counter()
    doc_vectors = _document_vectors(vectors, [len(c) for c in doc_chunks])
    with db.connection() as conn, conn.transaction():
        written = _write_batch(conn, kind, rows, doc_chunks, vectors, doc_vectors, encoder)
    stats.write_seconds += time.perf_counter() - t0
    if kind.chunk_table:
        kind_stats.chunks += len(flat)
    return written


def _text_fields(row: dict[str, Any], kind: DocumentKind) -> dict[str, Any]:
    return {col: row[col] for col in kind.text_columns}


def _document_vectors(vectors: np.ndarray, counts: list[int]) -> np.ndarray:
    """Mean of each document's chunk vectors, re-normalised to unit length."""
    out = np.empty((len(counts), vectors.shape[1]), dtype=np.float32)
    start = 0
    for i, n in enumerate(counts):
        mean = vectors[start : start + n].mean(axis=0)
        out[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        start += n
    return out


def _write_batch(
    conn: psycopg.Connection,
    kind: DocumentKind,
    rows: list[dict[str, Any]],
    doc_chunks: list[list[str]],
    chunk_vectors: np.ndarray,
    doc_vectors: np.ndarray,
    encoder: Encoder,
) -> int:
    id_col = kind.id_column
    ids = [row[id_col] for row in rows]
    # The content_hash guard skips rows edited after we read them; the next run embeds them.
    update = sql.SQL(
        "UPDATE {table} SET embedding = %s, embedded_hash = %s, embedding_model = %s,"
        " embedded_at = now() WHERE {id} = %s AND content_hash = %s"
    ).format(table=sql.Identifier(kind.table), id=sql.Identifier(id_col))
    with conn.cursor() as cur:
        cur.executemany(
            update,
            [
                (
                    doc_vectors[i],
                    row["content_hash"],
                    encoder.identity,
                    row[id_col],
                    row["content_hash"],
                )
                for i, row in enumerate(rows)
            ],
        )
        if kind.chunk_table:
            table = sql.Identifier(kind.chunk_table)
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(table, sql.Identifier(id_col)),
                (ids,),
            )
            copy_sql = sql.SQL(
                "COPY {} ({}, chunk_no, content, embedding) FROM STDIN WITH (FORMAT BINARY)"
            ).format(table, sql.Identifier(id_col))
            with cur.copy(copy_sql) as copy:
                copy.set_types(["text", "int4", "text", "vector"])
                position = 0
                for doc_id, chunks in zip(ids, doc_chunks, strict=True):
                    for chunk_no, content in enumerate(chunks):
                        copy.write_row((doc_id, chunk_no, content, chunk_vectors[position]))
                        position += 1
    return len(rows)

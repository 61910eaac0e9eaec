"""Incremental, crash-safe embedding refresh: embed only new, changed or stale documents."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from services.core.database import Database
from services.core.shards import WHOLE, Shard, shard_condition, shard_lock
from services.embeddings.chunking import chunk_text
from services.embeddings.documents import DocumentKind, registered_kinds
from services.embeddings.encoder import Encoder, EncodeTimings
from services.embeddings.pooling import pool_chunks
from services.embeddings.settings import EmbeddingSettings

log = logging.getLogger(__name__)

LOCK_NAME = "embeddings-refresh"
#: Called with (kind, documents done, documents to do, the refresh's running stats).
ProgressCallback = Callable[[str, int, int, "RefreshStats"], None]


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
    """Counts and timings of a refresh; timings split encode from database work.

    Writes run in a background thread while the next batch encodes, so `write_seconds` is
    time spent writing, not time added to the wall clock; `write_wait_seconds` is what the
    encoding loop actually waited for writes.
    """

    model: str
    kinds: dict[str, KindStats] = field(default_factory=dict)
    encode_seconds: float = 0.0
    chunk_seconds: float = 0.0
    write_seconds: float = 0.0
    write_wait_seconds: float = 0.0
    read_seconds: float = 0.0
    wall_seconds: float = 0.0
    encoder: EncodeTimings = field(default_factory=EncodeTimings)

    @property
    def embedded(self) -> int:
        """Documents embedded across kinds."""
        return sum(k.embedded for k in self.kinds.values())

    @property
    def encoded_texts(self) -> int:
        """Texts (chunks of postings, whole resumes) sent to the encoder."""
        return self.encoder.texts

    def time_shares(self) -> dict[str, float]:
        """Share of the refresh's elapsed time per step (tokenise, model, pool, write...)."""
        steps = {
            "read": self.read_seconds,
            "chunk": self.chunk_seconds,
            "tokenize": self.encoder.tokenize_seconds,
            "model": self.encoder.model_seconds,
            "pool": self.encoder.pool_seconds,
            "write_wait": self.write_wait_seconds,
        }
        total = sum(steps.values()) or 1.0
        return {name: round(seconds / total, 4) for name, seconds in steps.items()}

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
            "encoded_texts": self.encoder.texts,
            "encode_seconds": round(self.encode_seconds, 3),
            "tokenize_seconds": round(self.encoder.tokenize_seconds, 3),
            "model_seconds": round(self.encoder.model_seconds, 3),
            "pool_seconds": round(self.encoder.pool_seconds, 3),
            "chunk_seconds": round(self.chunk_seconds, 3),
            "write_seconds": round(self.write_seconds, 3),
            "write_wait_seconds": round(self.write_wait_seconds, 3),
            "read_seconds": round(self.read_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "time_shares": self.time_shares(),
        }


def refresh_embeddings(
    db: Database,
    encoder: Encoder,
    settings: EmbeddingSettings,
    *,
    kinds: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    shard: Shard = WHOLE,
    parallel: int = 1,
) -> RefreshStats:
    """Bring every document's vector in line with its current text and the current model.

    Each batch is one transaction, so a killed run keeps its finished batches and the next run
    embeds only what is left; an advisory lock keeps two refreshes from running at once.
    With `shard` I/N only the documents of that shard (a stable hash of the id) are read and
    embedded, under that shard's locks: N shards together reach the state one run reaches.
    `parallel` encodes run at once (`encoder.batch_job_threads`); the vectors do not change.
    """
    known = registered_kinds()
    names = list(known) if kinds is None else list(kinds)
    for name in names:
        if name not in known:
            raise ValueError(f"unknown document kind {name!r}; choose from {sorted(known)}")
    stats = RefreshStats(model=encoder.identity)
    started = time.perf_counter()
    with shard_lock(db.url, LOCK_NAME, shard):
        for name in names:
            stats.kinds[name] = _refresh_kind(
                db, encoder, settings, known[name], stats, progress, shard, parallel
            )
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
    shard: Shard = WHOLE,
    parallel: int = 1,
) -> KindStats:
    t0 = time.perf_counter()
    mine = shard_condition(kind.id_column, shard)
    with db.connection() as conn:
        total = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE {}").format(sql.Identifier(kind.table), mine)
        )
        kind_stats = KindStats(total=total.fetchone()[0])
        pending = [row[0] for row in conn.execute(_stale_query(kind, mine), (encoder.identity,))]
    stats.read_seconds += time.perf_counter() - t0
    if progress:
        progress(kind.name, 0, len(pending), stats)
    # One write in flight while the next batch encodes: the database work overlaps the model.
    # Each write is still its own transaction, so a kill keeps every batch that committed.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="refresh-write") as writer:
        in_flight: Future[int] | None = None
        in_flight_end = 0
        for start in range(0, len(pending), settings.refresh_batch_docs):
            ids = pending[start : start + settings.refresh_batch_docs]
            encoded = _encode_batch(db, encoder, settings, kind, ids, stats, parallel)
            if in_flight is not None:
                kind_stats.embedded += _wait(in_flight, stats)
                if progress:
                    progress(kind.name, in_flight_end, len(pending), stats)
            in_flight = None
            if encoded is not None:
                in_flight = writer.submit(_write_encoded, db, kind, encoded, encoder, stats)
                if kind.chunk_table:
                    kind_stats.chunks += len(encoded.vectors)
            in_flight_end = min(start + len(ids), len(pending))
        if in_flight is not None:
            kind_stats.embedded += _wait(in_flight, stats)
        if progress and pending:
            progress(kind.name, len(pending), len(pending), stats)
    return kind_stats


def _wait(future: Future[int], stats: RefreshStats) -> int:
    t0 = time.perf_counter()
    written = future.result()
    stats.write_wait_seconds += time.perf_counter() - t0
    return written


def pending_documents(db: Database, identity: str, kinds: Iterable[str] | None = None) -> int:
    """How many documents of `kinds` (default: all) still need a vector, in every shard."""
    known = registered_kinds()
    total = 0
    with db.connection() as conn:
        for name in known if kinds is None else kinds:
            stale = sql.SQL("SELECT count(*) FROM ({}) AS stale").format(_stale_query(known[name]))
            total += conn.execute(stale, (identity,)).fetchone()[0]
    return total


def pending_sample(
    db: Database, identity: str, settings: EmbeddingSettings, *, per_kind: int = 8
) -> dict[str, tuple[int, list[list[str]]]]:
    """Per kind: how many documents a refresh would embed, and the chunks of a few of them."""
    out: dict[str, tuple[int, list[list[str]]]] = {}
    for name, kind in registered_kinds().items():
        with db.connection() as conn:
            ids = [row[0] for row in conn.execute(_stale_query(kind), (identity,))]
            query = sql.SQL("SELECT {cols} FROM {table} WHERE {id} = ANY(%s)").format(
                cols=sql.SQL(", ").join(map(sql.Identifier, kind.text_columns)),
                table=sql.Identifier(kind.table),
                id=sql.Identifier(kind.id_column),
            )
            with conn.cursor(row_factory=dict_row) as cur:
                rows = cur.execute(query, (ids[:per_kind],)).fetchall()
        chunks = [
            chunk_text(kind.build_text(row), settings.chunk_words, settings.chunk_overlap_words)
            or [""]
            for row in rows
        ]
        out[name] = (len(ids), chunks)
    return out


def _stale_query(kind: DocumentKind, mine: sql.Composable | None = None) -> sql.Composed:
    return sql.SQL(
        "SELECT {id} FROM {table} WHERE (embedding IS NULL"
        " OR embedded_hash IS DISTINCT FROM content_hash"
        " OR embedding_model IS DISTINCT FROM %s) AND {mine} ORDER BY {id}"
    ).format(
        id=sql.Identifier(kind.id_column),
        table=sql.Identifier(kind.table),
        mine=mine if mine is not None else sql.SQL("TRUE"),
    )


@dataclass
class _Encoded:
    """One batch's rows, chunks and vectors, ready to write."""

    rows: list[dict[str, Any]]
    doc_chunks: list[list[str]]
    vectors: np.ndarray
    doc_vectors: np.ndarray


def _encode_batch(
    db: Database,
    encoder: Encoder,
    settings: EmbeddingSettings,
    kind: DocumentKind,
    ids: Sequence[str],
    stats: RefreshStats,
    parallel: int = 1,
) -> _Encoded | None:
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
        return None

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
    t1 = time.perf_counter()
    stats.chunk_seconds += t1 - t0
    vectors = encoder.encode(flat, timings=stats.encoder, parallel=parallel)
    doc_vectors = pool_chunks(vectors, [len(c) for c in doc_chunks])
    stats.encode_seconds += time.perf_counter() - t1
    return _Encoded(rows, doc_chunks, vectors, doc_vectors)


def _write_encoded(
    db: Database, kind: DocumentKind, encoded: _Encoded, encoder: Encoder, stats: RefreshStats
) -> int:
    t0 = time.perf_counter()
    with db.connection() as conn, conn.transaction():
        written = _write_batch(
            conn,
            kind,
            encoded.rows,
            encoded.doc_chunks,
            encoded.vectors,
            encoded.doc_vectors,
            encoder,
        )
    stats.write_seconds += time.perf_counter() - t0
    return written


def _text_fields(row: dict[str, Any], kind: DocumentKind) -> dict[str, Any]:
    return {col: row[col] for col in kind.text_columns}


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

"""Write validated postings and resumes to PostgreSQL: bulk, idempotent, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import replace as with_changes
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from services.core.errors import InputError
from services.jobs.documents import (
    JobPosting,
    Resume,
    content_hash,
    posting_text,
    resume_text,
)
from services.jobs.loaders import Kind, LoadedFile, read_documents


@dataclass(frozen=True)
class UpsertStats:
    """What one upsert did; `unchanged` rows were left untouched (updated_at kept)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    #: Rows of the file left out as near-duplicates of another row (see services.jobs.dedup).
    collapsed: int = 0


@dataclass(frozen=True)
class _Table:
    name: str
    model: type[JobPosting] | type[Resume]
    id_column: str
    # Columns outside the embedded text: a change there is an update even with an equal hash.
    extra_columns: tuple[str, ...]
    text_of: Callable[[Any], str]
    lock_id: int


_POSTINGS = _Table(
    name="job_postings",
    model=JobPosting,
    id_column="job_id",
    extra_columns=("role_family", "salary_min", "salary_max", "posted_at"),
    text_of=posting_text,
    lock_id=0x6A6F_6273_0001,
)
_RESUMES = _Table(
    name="resumes",
    model=Resume,
    id_column="resume_id",
    extra_columns=("name", "years_experience", "location", "seniority", "role_family"),
    text_of=resume_text,
    lock_id=0x6A6F_6273_0002,
)
_TABLES: dict[str, _Table] = {"postings": _POSTINGS, "resumes": _RESUMES}


def upsert_postings(
    conn: psycopg.Connection[Any], postings: Sequence[JobPosting], *, replace: bool = False
) -> UpsertStats:
    """Insert new postings, update changed ones; with replace, delete those not given."""
    return _upsert(conn, _POSTINGS, postings, replace=replace)


def upsert_resumes(
    conn: psycopg.Connection[Any], resumes: Sequence[Resume], *, replace: bool = False
) -> UpsertStats:
    """Insert new resumes, update changed ones; with replace, delete those not given."""
    return _upsert(conn, _RESUMES, resumes, replace=replace)


def load_file(
    conn: psycopg.Connection[Any],
    path: Path | str,
    kind: Kind,
    *,
    replace: bool = False,
    layout: str = "auto",
    encoding: str = "auto",
) -> UpsertStats:
    """Validate a whole file, then write it in one transaction (nothing is written on error)."""
    return write_loaded(
        conn, read_documents(path, kind, layout=layout, encoding=encoding), kind, replace=replace
    )


def write_loaded(
    conn: psycopg.Connection[Any], loaded: LoadedFile, kind: Kind, *, replace: bool = False
) -> UpsertStats:
    """Write a validated file in one transaction; the stats count its collapsed duplicates."""
    stats = _upsert(conn, _TABLES[kind], loaded.documents, replace=replace)
    return with_changes(stats, collapsed=len(loaded.collapsed))


# The one count of the jobs documents (the API's gauges, `embed check`, `db status`, the demo).
_COUNTS_SQL = """
SELECT 'postings', count(*), count(embedding) FROM job_postings
UNION ALL SELECT 'resumes', count(*), count(embedding) FROM resumes
UNION ALL SELECT 'chunks', count(*), count(*) FROM job_chunks
"""


def document_counts(conn: psycopg.Connection[Any]) -> dict[str, tuple[int, int]]:
    """(rows, rows with an embedding) of postings, resumes and posting chunks, in one query."""
    return {kind: (int(n), int(e)) for kind, n, e in conn.execute(_COUNTS_SQL).fetchall()}


def status_section(conn: psycopg.Connection[Any]) -> dict[str, dict[str, int]]:
    """`beacon db status` documents: rows and embedded rows per table (empty before migrating)."""
    if conn.execute("SELECT to_regclass('job_postings')").fetchone()[0] is None:
        return {}
    counts = document_counts(conn)
    tables = {"postings": "job_postings", "resumes": "resumes"}
    return {
        table: {"rows": counts[kind][0], "embedded": counts[kind][1]}
        for kind, table in tables.items()
    }


def count_documents(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Row counts of postings, resumes and posting chunks."""
    return {kind: rows for kind, (rows, _) in document_counts(conn).items()}


def _upsert(
    conn: psycopg.Connection[Any],
    table: _Table,
    documents: Sequence[JobPosting] | Sequence[Resume],
    *,
    replace: bool,
) -> UpsertStats:
    if not documents and not replace:
        return UpsertStats()
    fields = list(table.model.model_fields)
    ids = [getattr(d, table.id_column) for d in documents]
    if len(set(ids)) != len(ids):
        # ON CONFLICT cannot touch one row twice in a statement; say so before writing.
        raise InputError(f"{table.name}: the same {table.id_column} appears more than once")
    rows = [(*(getattr(d, f) for f in fields), content_hash(table.text_of(d))) for d in documents]
    stage = sql.Identifier(f"_stage_{table.name}")
    target = sql.Identifier(table.name)
    columns = sql.SQL(", ").join(map(sql.Identifier, [*fields, "content_hash"]))
    with conn.transaction():
        # Two loads of one kind at once would interleave their deletes; serialise them.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (table.lock_id,))
        conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {columns} FROM {target}"
                " WITH NO DATA"
            ).format(stage=stage, columns=columns, target=target)
        )
        with conn.cursor() as cur:
            with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(stage, columns)) as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(_upsert_sql(table, fields, stage))
            flags = [r[0] for r in cur.fetchall()]
            deleted = 0
            if replace:
                cur.execute(
                    sql.SQL(
                        "DELETE FROM {target} t WHERE NOT EXISTS"
                        " (SELECT 1 FROM {stage} s WHERE s.{id} = t.{id})"
                    ).format(target=target, stage=stage, id=sql.Identifier(table.id_column))
                )
                deleted = cur.rowcount
        # Dropped now as well as on commit: the caller may run several upserts in one transaction.
        conn.execute(sql.SQL("DROP TABLE {}").format(stage))
    inserted = sum(flags)
    updated = len(flags) - inserted
    return UpsertStats(
        inserted=inserted,
        updated=updated,
        unchanged=len(documents) - inserted - updated,
        deleted=deleted,
    )


def _upsert_sql(table: _Table, fields: list[str], stage: sql.Identifier) -> sql.Composed:
    """INSERT ... ON CONFLICT that skips identical rows and never touches embedding columns."""
    ident = sql.Identifier
    data = [f for f in fields if f != table.id_column]
    compared = ["content_hash", *table.extra_columns]
    return sql.SQL(
        "INSERT INTO {target} AS t ({columns}, updated_at)"
        " SELECT {columns}, now() FROM {stage}"
        " ON CONFLICT ({id}) DO UPDATE SET {assignments}, updated_at = now()"
        " WHERE ({old}) IS DISTINCT FROM ({new})"
        # xmax = 0 only for a freshly inserted row version: tells inserts from updates.
        " RETURNING (xmax = 0)"
    ).format(
        target=ident(table.name),
        columns=sql.SQL(", ").join(map(ident, [*fields, "content_hash"])),
        stage=stage,
        id=ident(table.id_column),
        assignments=sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(ident(c)) for c in [*data, "content_hash"]
        ),
        old=sql.SQL(", ").join(sql.SQL("t.{}").format(ident(c)) for c in compared),
        new=sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(ident(c)) for c in compared),
    )

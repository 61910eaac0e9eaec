"""Vector and hybrid retrieval over job postings and their chunks (pgvector HNSW + full text)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from services.core.database import Database
from services.core.errors import Conflict, InputError
from services.core.errors import NotFound as _NotFound
from services.embeddings.chunking import chunk_text
from services.embeddings.encoder import Encoder
from services.embeddings.hnsw import set_search_params
from services.embeddings.pooling import pool_chunks

#: Reciprocal rank fusion constant from Cormack et al. (2009); damps the head of each list.
RRF_K = 60
#: Candidates each retriever contributes to the fusion.
HYBRID_CANDIDATES = 30
#: Most chunks one free text may become. The API's 20,000-character texts stay below it (at
#: most 10,000 words, so 100 windows of 100 new words); it bounds what any caller can ask for.
MAX_TEXT_CHUNKS = 100

POSTING_COLUMNS = (
    "job_id",
    "title",
    "company",
    "location",
    "remote",
    "seniority",
    "salary_min",
    "salary_max",
)


class NotFound(_NotFound):
    """A document named in the request does not exist."""


class NotEmbedded(Conflict):
    """A document exists but the embeddings job has not embedded it yet."""


@dataclass(frozen=True)
class SearchFilters:
    """Posting filters shared by recommendations and question answering.

    Semantics (kept deliberately simple):
    - ``location`` is a case-insensitive substring of the posting's location ("lyon" matches
      "Lyon, France"). Remote postings name the country they hire in ("France"), so a remote
      posting also matches when its location is contained in the one asked for: a user in
      "Lyon, France" sees remote jobs open to France. On-site postings elsewhere never match;
    - ``remote=True`` keeps only remote postings, ``remote=False`` only on-site ones;
    - ``seniority`` keeps postings whose level is one of the given levels;
    - ``min_salary`` keeps postings whose ``salary_max`` reaches it (no salary: excluded).
    """

    location: str | None = None
    remote: bool | None = None
    seniority: tuple[str, ...] = ()
    min_salary: int | None = None

    def is_empty(self) -> bool:
        """True when no filter is set."""
        return (
            self.location is None
            and self.remote is None
            and not self.seniority
            and self.min_salary is None
        )

    def where(self, alias: str = "p") -> tuple[sql.Composable, dict[str, Any]]:
        """A SQL predicate on the posting table aliased `alias`, and its parameters."""

        def col(name: str) -> sql.Identifier:
            return sql.Identifier(alias, name)

        clauses: list[sql.Composable] = []
        params: dict[str, Any] = {}
        if self.remote is not None:
            clauses.append(sql.SQL("{} = %(f_remote)s").format(col("remote")))
            params["f_remote"] = self.remote
        if self.location is not None:
            # strpos, not LIKE: user text needs no wildcard escaping.
            clauses.append(
                sql.SQL(
                    "(strpos(lower({loc}), lower(%(f_location)s)) > 0"
                    " OR ({remote} AND strpos(lower(%(f_location)s), lower({loc})) > 0))"
                ).format(loc=col("location"), remote=col("remote"))
            )
            params["f_location"] = self.location
        if self.seniority:
            clauses.append(sql.SQL("{} = ANY(%(f_seniority)s)").format(col("seniority")))
            params["f_seniority"] = list(self.seniority)
        if self.min_salary is not None:
            clauses.append(sql.SQL("{} >= %(f_min_salary)s").format(col("salary_max")))
            params["f_min_salary"] = self.min_salary
        if not clauses:
            return sql.SQL("TRUE"), params
        return sql.SQL(" AND ").join(clauses), params

    def as_dict(self) -> dict[str, Any]:
        """The filters as sent back to the client."""
        out = asdict(self)
        out["seniority"] = list(self.seniority)
        return out


@dataclass(frozen=True)
class JobHit:
    """One recommended posting; score is cosine similarity (1 - cosine distance)."""

    job_id: str
    title: str
    company: str
    location: str
    remote: bool
    seniority: str
    salary_min: int | None
    salary_max: int | None
    score: float


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of a posting with its fused score and the ranks it came from."""

    job_id: str
    title: str
    company: str
    chunk_no: int
    content: str
    score: float
    vector_rank: int | None = None
    text_rank: int | None = None


@dataclass
class HybridResult:
    """Passages fused from both retrievers, with counts for the response's `retrieval` block."""

    passages: list[Passage]
    vector_candidates: int = 0
    text_candidates: int = 0
    fused_candidates: int = 0


def encode_document(
    encoder: Encoder, text: str, chunk_words: int, overlap_words: int
) -> np.ndarray:
    """Embed free text the way the refresh embeds a stored document.

    Stored vectors are the normalised mean of their chunk vectors, so a pasted resume is chunked
    and averaged the same way; otherwise long texts would be truncated and not comparable.
    The chunks go to the encoder in one call (length-sorted batches, cached per chunk), so
    the cost grows with the number of chunks and is capped by MAX_TEXT_CHUNKS.
    """
    chunks = chunk_text(text, chunk_words, overlap_words) or [text]
    if len(chunks) > MAX_TEXT_CHUNKS:
        raise InputError(
            f"text: {len(chunks)} chunks of {chunk_words} words; at most {MAX_TEXT_CHUNKS} "
            "are encoded per request"
        )
    return pool_chunks(encoder.encode(chunks), [len(chunks)])[0]


def as_vector(value: Any) -> np.ndarray:
    """A stored embedding as a float32 array."""
    # pgvector's loader returns a Vector object (0.4+) or a numpy array (older releases).
    array = value.to_numpy() if hasattr(value, "to_numpy") else value
    return np.asarray(array, dtype=np.float32)


_STORED = {
    "resume": ("resumes", "resume_id", "resume"),
    "posting": ("job_postings", "job_id", "job posting"),
}


def stored_document(
    conn: psycopg.Connection, kind: str, doc_id: str, columns: Sequence[str]
) -> tuple[np.ndarray, tuple[Any, ...]]:
    """A stored resume's or posting's embedding and the asked columns.

    NotFound for an unknown id, NotEmbedded when the refresh has not embedded it yet.
    """
    table, id_column, label = _STORED[kind]
    query = sql.SQL("SELECT embedding, {} FROM {} WHERE {} = %s").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.Identifier(table),
        sql.Identifier(id_column),
    )
    row = conn.execute(query, (doc_id,)).fetchone()
    if row is None:
        raise NotFound(f"{label} {doc_id!r} not found")
    if row[0] is None:
        raise NotEmbedded(
            f"{label} {doc_id!r} has no embedding yet; run the embeddings refresh and retry"
        )
    return as_vector(row[0]), tuple(row[1:])


def resume_vector(conn: psycopg.Connection, resume_id: str) -> tuple[np.ndarray, list[str]]:
    """The stored embedding and skills of a resume."""
    vector, (skills,) = stored_document(conn, "resume", resume_id, ["skills"])
    return vector, list(skills)


def recommend_sql(filters: SearchFilters) -> tuple[sql.Composed, dict[str, Any]]:
    """The recommendation query (exposed so benchmarks can EXPLAIN it).

    The inner query is the index scan (ORDER BY distance LIMIT k over the HNSW index); the
    materialised outer query restores exact order, which relaxed_order does not guarantee.
    """
    where, params = filters.where("p")
    cols = sql.SQL(", ").join(sql.Identifier("p", c) for c in POSTING_COLUMNS)
    query = sql.SQL(
        "WITH candidates AS MATERIALIZED ("
        " SELECT {cols}, p.embedding <=> %(vector)s AS distance"
        " FROM job_postings p"
        " WHERE p.embedding IS NOT NULL AND {where}"
        " ORDER BY distance LIMIT %(k)s)"
        " SELECT * FROM candidates ORDER BY distance, job_id"
    ).format(cols=cols, where=where)
    return query, params


def recommend_by_vector(
    conn: psycopg.Connection,
    vector: np.ndarray,
    top_k: int,
    filters: SearchFilters | None = None,
    *,
    ef_search: int = 100,
) -> list[JobHit]:
    """The `top_k` postings nearest to `vector` (cosine) that satisfy `filters`."""
    filters = filters or SearchFilters()
    set_search_params(conn, max(ef_search, top_k))
    query, params = recommend_sql(filters)
    params.update(vector=vector, k=top_k)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, params).fetchall()
    return [
        JobHit(**{c: row[c] for c in POSTING_COLUMNS}, score=1.0 - float(row["distance"]))
        for row in rows
    ]


def reciprocal_rank_fusion(
    rankings: Iterable[Sequence[Any]], k: int = RRF_K
) -> list[tuple[Any, float]]:
    """Fuse ranked lists of keys: score(key) = sum over lists of 1 / (k + rank), rank from 1.

    Ties keep the order in which keys were first seen, so the result is deterministic.
    """
    scores: dict[Any, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    order = {key: i for i, key in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))


def _vector_candidates(
    conn: psycopg.Connection, vector: np.ndarray, n: int, filters: SearchFilters
) -> list[dict[str, Any]]:
    where, params = filters.where("p")
    query = sql.SQL(
        "WITH candidates AS MATERIALIZED ("
        " SELECT c.job_id, c.chunk_no, c.embedding <=> %(vector)s AS distance"
        " FROM job_chunks c JOIN job_postings p USING (job_id)"
        " WHERE {where} ORDER BY distance LIMIT %(n)s)"
        " SELECT * FROM candidates ORDER BY distance, job_id, chunk_no"
    ).format(where=where)
    params.update(vector=vector, n=n)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def _text_candidates(
    conn: psycopg.Connection, question: str, n: int, filters: SearchFilters
) -> list[dict[str, Any]]:
    # websearch_to_tsquery ANDs every term, which natural questions rarely satisfy ("which jobs
    # need kubernetes" requires the word "job"). Chunks matching all terms rank first, then
    # chunks matching any term (the same query with AND turned into OR), by ts_rank_cd.
    where, params = filters.where("p")
    query = sql.SQL(
        "WITH w AS (SELECT websearch_to_tsquery('english', %(question)s) AS strict),"
        " q AS (SELECT strict, replace(strict::text, ' & ', ' | ')::tsquery AS loose FROM w)"
        " SELECT c.job_id, c.chunk_no,"
        " (c.search_tsv @@ q.strict) AS all_terms, ts_rank_cd(c.search_tsv, q.loose) AS rank"
        " FROM job_chunks c JOIN job_postings p USING (job_id), q"
        " WHERE c.search_tsv @@ q.loose AND {where}"
        " ORDER BY all_terms DESC, rank DESC, c.job_id, c.chunk_no LIMIT %(n)s"
    ).format(where=where)
    params.update(question=question, n=n)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def hybrid_passages(
    conn: psycopg.Connection,
    question: str,
    vector: np.ndarray,
    top_k: int,
    filters: SearchFilters | None = None,
    *,
    candidates: int = HYBRID_CANDIDATES,
    ef_search: int = 100,
    rrf_k: int = RRF_K,
) -> HybridResult:
    """Vector top-N and full-text top-N chunks fused by reciprocal rank fusion; best `top_k`."""
    filters = filters or SearchFilters()
    set_search_params(conn, max(ef_search, candidates))
    by_vector = _vector_candidates(conn, vector, candidates, filters)
    by_text = _text_candidates(conn, question, candidates, filters)
    vector_keys = [(r["job_id"], r["chunk_no"]) for r in by_vector]
    text_keys = [(r["job_id"], r["chunk_no"]) for r in by_text]
    fused = reciprocal_rank_fusion([vector_keys, text_keys], k=rrf_k)
    best = fused[:top_k]
    vector_rank = {key: i for i, key in enumerate(vector_keys, start=1)}
    text_rank = {key: i for i, key in enumerate(text_keys, start=1)}
    details = _passage_details(conn, [key for key, _ in best])
    passages = [
        Passage(
            job_id=key[0],
            title=details[key]["title"],
            company=details[key]["company"],
            chunk_no=key[1],
            content=details[key]["content"],
            score=score,
            vector_rank=vector_rank.get(key),
            text_rank=text_rank.get(key),
        )
        for key, score in best
        if key in details  # a posting deleted between the two queries is skipped
    ]
    return HybridResult(
        passages=passages,
        vector_candidates=len(by_vector),
        text_candidates=len(by_text),
        fused_candidates=len(fused),
    )


def _passage_details(
    conn: psycopg.Connection, keys: list[tuple[str, int]]
) -> dict[tuple[str, int], dict[str, Any]]:
    if not keys:
        return {}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT c.job_id, c.chunk_no, c.content, p.title, p.company"
            " FROM job_chunks c JOIN job_postings p USING (job_id)"
            " JOIN unnest(%s::text[], %s::int[]) AS k(job_id, chunk_no)"
            " ON k.job_id = c.job_id AND k.chunk_no = c.chunk_no",
            ([k[0] for k in keys], [k[1] for k in keys]),
        ).fetchall()
    return {(r["job_id"], r["chunk_no"]): r for r in rows}


def recommend_for_resume(
    db: Database,
    resume_id: str,
    top_k: int,
    filters: SearchFilters | None = None,
    *,
    ef_search: int = 100,
) -> list[JobHit]:
    """Postings nearest to a stored resume's embedding (nothing is encoded on this path)."""
    with db.connection() as conn:
        vector, _ = resume_vector(conn, resume_id)
        return recommend_by_vector(conn, vector, top_k, filters, ef_search=ef_search)


def recommend_for_text(
    db: Database,
    encoder: Encoder,
    text: str,
    top_k: int,
    filters: SearchFilters | None = None,
    *,
    chunk_words: int = 120,
    overlap_words: int = 20,
    ef_search: int = 100,
) -> list[JobHit]:
    """Postings nearest to free resume text, embedded like a stored resume."""
    vector = encode_document(encoder, text, chunk_words, overlap_words)
    with db.connection() as conn:
        return recommend_by_vector(conn, vector, top_k, filters, ef_search=ef_search)

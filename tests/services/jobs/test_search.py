"""Retrieval functions: filters, HNSW iterative scans, exactness, hybrid fusion."""

from __future__ import annotations

import numpy as np
import pytest

from services.core.database import Database
from services.jobs.search import (
    SearchFilters,
    hybrid_passages,
    reciprocal_rank_fusion,
    recommend_by_vector,
    recommend_for_resume,
    recommend_sql,
    resume_vector,
)


@pytest.fixture(scope="module")
def corpus(jobs_database_url):
    database = Database(jobs_database_url, min_size=1, max_size=2)
    yield database
    database.close()


def _all_postings(conn) -> tuple[list[dict], np.ndarray]:
    rows = conn.execute(
        "SELECT job_id, remote, seniority, location, salary_max, embedding"
        " FROM job_postings ORDER BY job_id"
    ).fetchall()
    keys = ("job_id", "remote", "seniority", "location", "salary_max")
    meta = [dict(zip(keys, r[:5], strict=True)) for r in rows]
    return meta, np.stack([r[5].to_numpy() for r in rows])


def test_rrf_sums_reciprocal_ranks_and_breaks_ties_by_first_seen():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "b", "d"]], k=60)
    scores = dict(fused)
    assert scores["b"] == pytest.approx(2 / 62)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert scores["a"] == pytest.approx(1 / 61)
    assert [key for key, _ in fused] == ["c", "b", "a", "d"]
    assert [k for k, _ in reciprocal_rank_fusion([["x", "y"], ["y", "x"]])] == ["x", "y"]


def test_filters_compile_to_parameters_not_text():
    where, params = SearchFilters(location="x'; drop table job_postings; --").where()
    assert "drop table" not in where.as_string(None)
    assert params == {"f_location": "x'; drop table job_postings; --"}
    assert SearchFilters().is_empty()


def test_unfiltered_recommendations_match_exact_search(corpus):
    """HNSW with ef_search=100 returns the exact top 10 on this corpus."""
    with corpus.connection() as conn:
        meta, matrix = _all_postings(conn)
        for resume_id in ("res-000001", "res-000017", "res-000042"):
            vector, _ = resume_vector(conn, resume_id)
            exact = np.argsort(-(matrix @ vector), kind="stable")[:10]
            hits = recommend_by_vector(conn, vector, 10, ef_search=100)
            assert [h.job_id for h in hits] == [meta[i]["job_id"] for i in exact]
            assert hits[0].score == pytest.approx(float(matrix[exact[0]] @ vector), abs=1e-5)


def test_iterative_scan_fills_top_k_under_a_selective_filter(corpus):
    """Forced onto the HNSW index with a small ef_search, the filter still yields top_k rows.

    The planner would use the (seniority, remote) b-tree here on a corpus this small; turning
    the other plans off reproduces what a large table does: an index scan filtered afterwards.
    """
    filters = SearchFilters(remote=True, seniority=("mid", "senior"))
    top_k = 20
    with corpus.connection() as conn:
        meta, matrix = _all_postings(conn)
        vector, _ = resume_vector(conn, "res-000002")
        allowed = [
            i for i, m in enumerate(meta) if m["remote"] and m["seniority"] in filters.seniority
        ]
        assert len(allowed) >= top_k
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SET LOCAL enable_bitmapscan = off")
        conn.execute("SET LOCAL enable_sort = off")

        query, params = recommend_sql(filters)
        params.update(vector=vector, k=top_k)
        plan = "\n".join(r[0] for r in conn.execute(b"EXPLAIN " + query.as_bytes(conn), params))
        assert "job_postings_embedding_hnsw" in plan

        hits = recommend_by_vector(conn, vector, top_k, filters, ef_search=10)
        assert len(hits) == top_k
        assert all(h.remote and h.seniority in ("mid", "senior") for h in hits)
        exact = sorted(allowed, key=lambda i: -float(matrix[i] @ vector))[:top_k]
        recall = len({h.job_id for h in hits} & {meta[i]["job_id"] for i in exact}) / top_k
        assert recall >= 0.9

        # Without the iterative scan, the same query comes back short: the reason it is on.
        conn.execute("SET LOCAL hnsw.iterative_scan = off")
        short = conn.execute(query, params).fetchall()
        assert len(short) < top_k
        conn.rollback()


def test_location_filter_semantics(corpus):
    with corpus.connection() as conn:
        vector, _ = resume_vector(conn, "res-000003")
        lyon = recommend_by_vector(conn, vector, 100, SearchFilters(location="lyon"))
        lyon_fr = recommend_by_vector(conn, vector, 100, SearchFilters(location="Lyon, France"))
        onsite = recommend_by_vector(
            conn, vector, 100, SearchFilters(location="Lyon, France", remote=False)
        )
        remote = recommend_by_vector(
            conn, vector, 100, SearchFilters(location="Lyon, France", remote=True)
        )
    assert {h.location for h in lyon} == {"Lyon, France"}
    assert {(h.location, h.remote) for h in lyon_fr} == {("Lyon, France", False), ("France", True)}
    assert {(h.location, h.remote) for h in onsite} == {("Lyon, France", False)}
    assert {(h.location, h.remote) for h in remote} == {("France", True)}


def test_min_salary_excludes_postings_without_salary(corpus):
    with corpus.connection() as conn:
        vector, _ = resume_vector(conn, "res-000004")
        hits = recommend_by_vector(conn, vector, 100, SearchFilters(min_salary=150_000))
    assert hits and all(h.salary_max is not None and h.salary_max >= 150_000 for h in hits)


def test_recommend_for_resume_is_a_thin_wrapper(corpus):
    hits = recommend_for_resume(corpus, "res-000005", 3)
    assert len(hits) == 3 and hits[0].score >= hits[-1].score


def test_hybrid_passages_fuse_vector_and_keyword_candidates(corpus, encoder):
    question = "Which jobs require Terraform?"
    with corpus.connection() as conn:
        result = hybrid_passages(conn, question, encoder.encode([question])[0], 5)
    assert result.vector_candidates == 30 and result.text_candidates == 30
    assert len(result.passages) == 5
    scores = [p.score for p in result.passages]
    assert scores == sorted(scores, reverse=True)
    for p in result.passages:
        expected = sum(1 / (60 + r) for r in (p.vector_rank, p.text_rank) if r is not None)
        assert p.score == pytest.approx(expected)
    assert sum("terraform" in p.content.lower() for p in result.passages) >= 4

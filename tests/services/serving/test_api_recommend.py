"""POST /v1/recommend_jobs: by resume id and by text, filters, retrieval quality, bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.jobs.documents import Resume, resume_text
from services.jobs.store import upsert_resumes
from services.serving.app import create_app

#: Measured 0.958 on the session corpus (60 resumes, 300 postings, seed 11); margin for noise.
PRECISION_AT_10_FLOOR = 0.85


def _postings(corpus_db, job_ids: list[str]) -> dict[str, dict]:
    with corpus_db.connection() as conn:
        rows = conn.execute(
            "SELECT job_id, role_family, remote, seniority, location, salary_max"
            " FROM job_postings WHERE job_id = ANY(%s)",
            (job_ids,),
        ).fetchall()
    keys = ("role_family", "remote", "seniority", "location", "salary_max")
    return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in rows}


def test_recommend_by_resume_id(client, jobs_corpus, encoder):
    resume = jobs_corpus.resumes[0]
    response = client.post("/v1/recommend_jobs", json={"resume_id": resume.resume_id, "top_k": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == encoder.identity
    assert body["query"] == {
        "resume_id": resume.resume_id,
        "text_chars": None,
        "top_k": 5,
        "filters": {"location": None, "remote": None, "seniority": [], "min_salary": None},
    }
    results = body["results"]
    assert len(results) == 5
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= s <= 1.0 for s in scores)
    assert set(results[0]) == {
        "job_id",
        "title",
        "company",
        "location",
        "remote",
        "seniority",
        "salary_min",
        "salary_max",
        "score",
    }


def test_text_query_is_embedded_like_a_stored_resume(client, jobs_corpus):
    """Pasting a stored resume's text gives the same postings as asking by its id."""
    resume = jobs_corpus.resumes[3]
    by_id = client.post("/v1/recommend_jobs", json={"resume_id": resume.resume_id, "top_k": 5})
    text = resume_text(resume)
    by_text = client.post("/v1/recommend_jobs", json={"text": text, "top_k": 5})
    assert by_text.status_code == 200
    assert [r["job_id"] for r in by_text.json()["results"]] == [
        r["job_id"] for r in by_id.json()["results"]
    ]
    query = by_text.json()["query"]
    assert query["text_chars"] == len(text) and query["resume_id"] is None
    assert resume.summary[:40] not in by_text.text  # pasted text is never echoed


def test_retrieval_quality_role_family_precision_at_10(client, jobs_corpus, corpus_db):
    """Share of each resume's top-10 postings that are in the resume's true role family."""
    shares = []
    for resume in jobs_corpus.resumes:
        response = client.post("/v1/recommend_jobs", json={"resume_id": resume.resume_id})
        assert response.status_code == 200
        ids = [r["job_id"] for r in response.json()["results"]]
        assert len(ids) == 10
        postings = _postings(corpus_db, ids)
        shares.append(sum(postings[i]["role_family"] == resume.role_family for i in ids) / 10)
    precision = sum(shares) / len(shares)
    print(f"role-family precision@10 over {len(shares)} resumes: {precision:.3f}")
    assert precision >= PRECISION_AT_10_FLOOR


def test_filtered_query_fills_top_k_and_respects_filters(client, jobs_corpus, corpus_db):
    filters = {"remote": True, "seniority": ["mid", "senior"]}
    with corpus_db.connection() as conn:
        matching = conn.execute(
            "SELECT count(*) FROM job_postings WHERE remote AND seniority IN ('mid', 'senior')"
        ).fetchone()[0]
    top_k = 20
    assert matching >= top_k  # the corpus must allow a full page for this test to mean much
    response = client.post(
        "/v1/recommend_jobs",
        json={"resume_id": jobs_corpus.resumes[1].resume_id, "top_k": top_k, "filters": filters},
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == top_k
    assert all(r["remote"] and r["seniority"] in ("mid", "senior") for r in results)
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_location_salary_and_single_seniority_filters(client, jobs_corpus, corpus_db):
    body = {
        "resume_id": jobs_corpus.resumes[2].resume_id,
        "top_k": 15,
        "filters": {"location": "FRANCE", "min_salary": 90000, "seniority": "senior"},
    }
    response = client.post("/v1/recommend_jobs", json=body)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results, "the corpus has senior postings in France"
    assert response.json()["query"]["filters"]["seniority"] == ["senior"]
    for r in results:
        assert "france" in r["location"].lower()
        assert r["salary_max"] >= 90000 and r["seniority"] == "senior"


def test_remote_postings_match_a_city_in_their_country(client, jobs_corpus):
    body = {
        "resume_id": jobs_corpus.resumes[2].resume_id,
        "top_k": 50,
        "filters": {"location": "Lyon, France"},
    }
    results = client.post("/v1/recommend_jobs", json=body).json()["results"]
    on_site = {r["location"] for r in results if not r["remote"]}
    remote = {r["location"] for r in results if r["remote"]}
    assert on_site == {"Lyon, France"}
    assert remote == {"France"}


def test_fewer_matches_than_top_k_returns_what_matches(client, jobs_corpus, corpus_db):
    with corpus_db.connection() as conn:
        matching = conn.execute(
            "SELECT count(*) FROM job_postings WHERE remote AND seniority = 'principal'"
        ).fetchone()[0]
    body = {
        "resume_id": jobs_corpus.resumes[0].resume_id,
        "top_k": 50,
        "filters": {"remote": True, "seniority": ["principal"]},
    }
    assert len(client.post("/v1/recommend_jobs", json=body).json()["results"]) == matching < 50


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"resume_id": "res-000001", "text": "python developer"}, ["body"]),
        ({"top_k": 3}, ["body"]),
        ({"resume_id": "res-000001", "top_k": 0}, ["body", "top_k"]),
        ({"resume_id": "res-000001", "top_k": 51}, ["body", "top_k"]),  # max_top_k is 50
        ({"resume_id": "res-000001", "top_k": "ten"}, ["body", "top_k"]),
        (
            {"resume_id": "res-000001", "filters": {"seniority": ["boss"]}},
            ["body", "filters", "seniority", 0],
        ),
        (
            {"resume_id": "res-000001", "filters": {"min_salary": -1}},
            ["body", "filters", "min_salary"],
        ),
        ({"resume_id": "res-000001", "filters": {"city": "Paris"}}, ["body", "filters", "city"]),
        ({"resume_id": "res-000001", "topk": 5}, ["body", "topk"]),
        ({"text": "x" * 20_001}, ["body", "text"]),
    ],
)
def test_bad_input_is_422_naming_the_field(client, body, loc):
    response = client.post("/v1/recommend_jobs", json=body)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert loc in [e["loc"] for e in errors]
    assert all("input" not in e for e in errors)  # submitted text is never echoed back


def test_top_k_above_max_names_the_limit(client):
    response = client.post("/v1/recommend_jobs", json={"resume_id": "res-000001", "top_k": 51})
    (error,) = response.json()["detail"]
    assert error == {
        "type": "less_than_equal",
        "loc": ["body", "top_k"],
        "msg": "Input should be less than or equal to 50",
        "ctx": {"le": 50},
    }


def test_malformed_json_is_422(client):
    response = client.post(
        "/v1/recommend_jobs", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_unknown_resume_is_404(client):
    response = client.post("/v1/recommend_jobs", json={"resume_id": "res-999999"})
    assert response.status_code == 404
    assert response.json() == {"detail": "resume 'res-999999' not found"}


def test_resume_without_embedding_is_409(db, serving_settings, encoder):
    resume = Resume(resume_id="res-new", headline="Data Engineer", summary="Builds pipelines.")
    with db.connection() as conn:
        upsert_resumes(conn, [resume])
    with TestClient(create_app(serving_settings, database=db, encoder=encoder)) as fresh:
        response = fresh.post("/v1/recommend_jobs", json={"resume_id": "res-new"})
    assert response.status_code == 409
    assert "no embedding yet" in response.json()["detail"]

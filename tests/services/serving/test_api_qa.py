"""POST /v1/job_qa: hybrid retrieval, extractive answers citing only retrieved postings."""

from __future__ import annotations

import re

import pytest

CITED = re.compile(r"\[(job-\d{6})\]")


def _ask(client, question: str, **extra):
    response = client.post("/v1/job_qa", json={"question": question, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_skill_question_retrieves_and_cites_postings_with_that_skill(client, corpus_db):
    body = _ask(client, "Which jobs require Kubernetes experience?")
    cited = CITED.findall(body["answer"])
    assert cited, body["answer"]
    citation_ids = {c["job_id"] for c in body["citations"]}
    assert set(cited) <= citation_ids  # every id in the text is a citation ...
    assert citation_ids <= set(cited)  # ... and every citation is used in the text
    with corpus_db.connection() as conn:
        mentions = {
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT job_id FROM job_postings"
                " WHERE job_id = ANY(%s) AND (description ILIKE '%%kubernetes%%'"
                " OR 'kubernetes' = ANY(skills))",
                (list(citation_ids),),
            )
        }
    assert mentions == citation_ids
    assert "kubernetes" in body["answer"].lower()
    for c in body["citations"]:
        assert set(c) == {"job_id", "title", "company", "chunk_no", "snippet", "score"}
        assert c["snippet"] and c["score"] > 0
    retrieval = body["retrieval"]
    assert retrieval["method"] == "hybrid_rrf" and retrieval["rrf_k"] == 60
    assert retrieval["vector_candidates"] == 30 and retrieval["text_candidates"] > 0
    assert retrieval["passages"] == 5 and retrieval["answer_backend"] == "extractive"


def test_answers_are_deterministic(client):
    question = "What does a nurse do on night shifts?"
    first, second = _ask(client, question), _ask(client, question)
    assert first["answer"] == second["answer"]
    assert first["citations"] == second["citations"]


def test_filters_restrict_the_passages(client, corpus_db):
    body = _ask(client, "Which roles are fully remote?", top_k=8, filters={"remote": True})
    ids = [c["job_id"] for c in body["citations"]]
    assert ids
    with corpus_db.connection() as conn:
        remote = conn.execute(
            "SELECT bool_and(remote) FROM job_postings WHERE job_id = ANY(%s)", (ids,)
        ).fetchone()[0]
    assert remote is True


def test_question_without_keyword_hits_still_gets_vector_passages(client):
    body = _ask(client, "zxqv wplm trrk?")
    assert body["retrieval"]["text_candidates"] == 0
    assert body["retrieval"]["vector_candidates"] == 30
    assert set(CITED.findall(body["answer"])) <= {c["job_id"] for c in body["citations"]}


@pytest.mark.parametrize(
    "question",
    ["what is the?", "C++ & C# | !(rust) -- 'quotes' \"an exact phrase\" \\ ;", "ünïcödé ☃ 日本語"],
)
def test_odd_questions_are_answered_not_errors(client, question):
    body = _ask(client, question)
    assert set(CITED.findall(body["answer"])) <= {c["job_id"] for c in body["citations"]}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"question": "hi"}, ["body", "question"]),
        ({"question": " \n\t  "}, ["body", "question"]),  # whitespace only (kept as sent)
        ({"question": "q" * 1001}, ["body", "question"]),
        ({}, ["body", "question"]),
        ({"question": "Which jobs use Go?", "top_k": 51}, ["body", "top_k"]),
        (
            {"question": "Which jobs use Go?", "filters": {"remote": "maybe"}},
            ["body", "filters", "remote"],
        ),
    ],
)
def test_bad_question_is_422(client, body, loc):
    response = client.post("/v1/job_qa", json=body)
    assert response.status_code == 422
    assert loc in [e["loc"] for e in response.json()["detail"]]

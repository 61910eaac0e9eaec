"""POST /v1/classify_match: ids and free text, the calibrated rule's output, bad input."""

from __future__ import annotations

import pytest

from services.jobs.documents import posting_text, resume_text
from services.jobs.match import METHOD


def _pair(jobs_corpus, same_family: bool):
    resume = jobs_corpus.resumes[0]
    posting = next(
        p for p in jobs_corpus.postings if (p.role_family == resume.role_family) == same_family
    )
    return resume, posting


def _classify(client, **body):
    response = client.post("/v1/classify_match", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_same_family_pair_matches(client, jobs_corpus):
    resume, posting = _pair(jobs_corpus, same_family=True)
    body = _classify(client, resume_id=resume.resume_id, job_id=posting.job_id)
    assert body["label"] == "match"
    assert 0.5 <= body["probability"] <= 1.0
    assert body["method"] == METHOD == "similarity_skill_rule_v1"
    assert set(body["features"]) == {"similarity", "skill_overlap"}
    assert 0.0 <= body["features"]["skill_overlap"] <= 1.0


def test_other_family_pair_does_not_match(client, jobs_corpus):
    resume, posting = _pair(jobs_corpus, same_family=False)
    body = _classify(client, resume_id=resume.resume_id, job_id=posting.job_id)
    assert body["label"] == "no_match"
    assert body["probability"] < 0.5


def test_free_text_is_scored_like_the_stored_documents(client, jobs_corpus):
    resume, posting = _pair(jobs_corpus, same_family=True)
    stored = _classify(client, resume_id=resume.resume_id, job_id=posting.job_id)
    pasted = _classify(client, resume_text=resume_text(resume), job_text=posting_text(posting))
    # Same text, same embedding procedure: the similarity agrees to float precision.
    assert pasted["features"]["similarity"] == pytest.approx(
        stored["features"]["similarity"], abs=1e-3
    )
    # The skill lines of the texts list every skill, so extraction finds at least those.
    assert pasted["features"]["skill_overlap"] >= stored["features"]["skill_overlap"] - 0.15
    assert pasted["label"] == stored["label"]


def test_mixed_id_and_text(client, jobs_corpus):
    resume, posting = _pair(jobs_corpus, same_family=True)
    body = _classify(client, resume_text=resume_text(resume), job_id=posting.job_id)
    assert body["label"] == "match"


@pytest.mark.parametrize(
    "body",
    [
        {"resume_id": "res-000001"},
        {"job_id": "job-000001"},
        {"resume_id": "res-000001", "resume_text": "python", "job_id": "job-000001"},
        {"resume_id": "res-000001", "job_id": "job-000001", "job_text": "python developer"},
        {"resume_id": "", "job_id": "job-000001"},
    ],
)
def test_exactly_one_of_each_pair_or_422(client, body):
    response = client.post("/v1/classify_match", json=body)
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"resume_id": "res-000001", "job_id": "job-999999"}, "job posting 'job-999999' not found"),
        (
            {"resume_id": "res-999999", "job_text": "python developer"},
            "resume 'res-999999' not found",
        ),
    ],
)
def test_unknown_ids_are_404(client, body, detail):
    response = client.post("/v1/classify_match", json=body)
    assert response.status_code == 404
    assert response.json() == {"detail": detail}

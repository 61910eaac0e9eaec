"""The corpus generator is deterministic, realistic enough to measure retrieval, and valid."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from statistics import mean

import pytest

from services.jobs.documents import SENIORITY_LEVELS, JobPosting, Resume
from services.jobs.synthetic import (
    BASE_DATE,
    FAMILIES,
    POSTING_WINDOW_DAYS,
    ROLE_FAMILIES,
    Corpus,
    generate_corpus,
    write_corpus,
)

TITLE_MARKERS = {
    "intern": r"\bIntern\b",
    "junior": r"\b(Junior|Entry-Level)\b",
    "mid": r"(\bII\b|\bMid-Level\b)",
    "senior": r"(\bSenior\b|\bSr\.)",
    "lead": r"\bLead\b",
    "principal": r"\bPrincipal\b",
}


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return generate_corpus()


def _digest(corpus: Corpus) -> str:
    docs = [d.model_dump(mode="json") for d in (*corpus.postings, *corpus.resumes)]
    return hashlib.sha256(json.dumps(docs, sort_keys=True).encode()).hexdigest()


def test_default_sizes(corpus: Corpus) -> None:
    # Its speed is a figure of bench/bench_generators.py, not a test.
    assert len(corpus.postings) == 5000 and len(corpus.resumes) == 1000
    small = generate_corpus(n_postings=37, n_resumes=3, seed=1)
    assert (len(small.postings), len(small.resumes)) == (37, 3)
    assert generate_corpus(0, 0) == Corpus(postings=[], resumes=[])


def test_same_seed_same_corpus_different_seed_differs() -> None:
    first = generate_corpus(n_postings=200, n_resumes=50, seed=3)
    assert first == generate_corpus(n_postings=200, n_resumes=50, seed=3)
    other = generate_corpus(n_postings=200, n_resumes=50, seed=4)
    assert _digest(first) != _digest(other)
    assert [p.description for p in first.postings] != [p.description for p in other.postings]


def test_output_does_not_depend_on_hash_randomisation() -> None:
    code = (
        "import hashlib, json\n"
        "from services.jobs.synthetic import generate_corpus\n"
        "c = generate_corpus(n_postings=120, n_resumes=30, seed=3)\n"
        "docs = [d.model_dump(mode='json') for d in (*c.postings, *c.resumes)]\n"
        "print(hashlib.sha256(json.dumps(docs, sort_keys=True).encode()).hexdigest())\n"
    )
    expected = _digest(generate_corpus(n_postings=120, n_resumes=30, seed=3))
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == expected


def test_resumes_do_not_depend_on_the_number_of_postings() -> None:
    a = generate_corpus(n_postings=10, n_resumes=40, seed=5)
    b = generate_corpus(n_postings=300, n_resumes=40, seed=5)
    assert a.resumes == b.resumes


def test_families_are_many_and_all_present(corpus: Corpus) -> None:
    assert len(ROLE_FAMILIES) >= 15
    assert len(set(ROLE_FAMILIES)) == len(ROLE_FAMILIES)
    assert set(Counter(r.role_family for r in corpus.resumes)) == set(ROLE_FAMILIES)
    assert set(Counter(p.role_family for p in corpus.postings)) == set(ROLE_FAMILIES)
    # Coverage holds even for a corpus as small as the number of families.
    tiny = generate_corpus(n_postings=len(ROLE_FAMILIES), n_resumes=len(ROLE_FAMILIES), seed=2)
    assert {r.role_family for r in tiny.resumes} == set(ROLE_FAMILIES)
    assert {p.role_family for p in tiny.postings} == set(ROLE_FAMILIES)


def test_neighbouring_families_share_skills_but_stay_distinct() -> None:
    skills = {f.key: set(f.core_skills) | set(f.optional_skills) for f in FAMILIES}
    for a, b in [
        ("data_science", "ml_engineering"),
        ("data_engineering", "data_science"),
        ("backend", "devops_sre"),
        ("frontend", "mobile"),
        ("sales", "customer_support"),
    ]:
        shared = skills[a] & skills[b]
        assert shared, f"{a} and {b} should overlap"
        assert len(shared) < len(skills[a]) / 2, f"{a} and {b} overlap too much"
    for family in FAMILIES:
        assert len(family.titles) >= 3 and len(family.core_skills) >= 6


def test_ids_unique_and_formatted(corpus: Corpus) -> None:
    job_ids = [p.job_id for p in corpus.postings]
    resume_ids = [r.resume_id for r in corpus.resumes]
    assert len(set(job_ids)) == len(job_ids) and len(set(resume_ids)) == len(resume_ids)
    assert all(re.fullmatch(r"job-\d{6}", i) for i in job_ids)
    assert all(re.fullmatch(r"res-\d{6}", i) for i in resume_ids)
    assert job_ids[0] == "job-000001" and resume_ids[-1] == "res-001000"


def test_every_document_validates(corpus: Corpus) -> None:
    for posting in corpus.postings:
        assert JobPosting.model_validate(posting.model_dump(mode="json")) == posting
    for resume in corpus.resumes:
        assert Resume.model_validate(resume.model_dump(mode="json")) == resume


def test_remote_share_locations_and_companies(corpus: Corpus) -> None:
    remote = [p for p in corpus.postings if p.remote]
    assert 0.15 <= len(remote) / len(corpus.postings) <= 0.25
    # Remote postings name a country, on-site ones "City, Country".
    assert all("," not in p.location for p in remote)
    onsite = [p for p in corpus.postings if not p.remote]
    assert all(", " in p.location for p in onsite)
    assert len({p.location.split(", ")[-1] for p in onsite}) >= 8
    assert len({p.location for p in onsite}) >= 25
    assert len({p.company for p in corpus.postings}) >= 200


def test_salaries_ordered_and_rising_with_seniority(corpus: Corpus) -> None:
    with_salary = [p for p in corpus.postings if p.salary_min is not None]
    assert len(with_salary) > 0.8 * len(corpus.postings)
    assert all(p.salary_max is not None and p.salary_min <= p.salary_max for p in with_salary)
    means = [
        mean(p.salary_min for p in with_salary if p.seniority == level)
        for level in SENIORITY_LEVELS
    ]
    assert means == sorted(means), dict(zip(SENIORITY_LEVELS, means, strict=True))
    # Location cost shows: the same family pays more in San Francisco than in Bangalore.
    sf = [p.salary_min for p in with_salary if p.location.startswith("San Francisco")]
    blr = [p.salary_min for p in with_salary if p.location.startswith("Bangalore")]
    assert mean(sf) > 2 * mean(blr)


def test_seniority_shows_in_titles(corpus: Corpus) -> None:
    for posting in corpus.postings:
        for level, marker in TITLE_MARKERS.items():
            found = re.search(marker, posting.title) is not None
            assert found == (level == posting.seniority), (posting.title, posting.seniority)
    assert {p.seniority for p in corpus.postings} == set(SENIORITY_LEVELS)


def test_descriptions_are_multi_paragraph_and_varied(corpus: Corpus) -> None:
    for posting in corpus.postings:
        paragraphs = posting.description.split("\n\n")
        assert 3 <= len(paragraphs) <= 5
        assert 120 <= len(posting.description.split()) <= 300
        assert posting.company in paragraphs[0]
    descriptions = [p.description for p in corpus.postings]
    assert len(set(descriptions)) == len(descriptions)


def test_posting_dates_come_from_a_fixed_window(corpus: Corpus) -> None:
    earliest = BASE_DATE - timedelta(days=POSTING_WINDOW_DAYS)
    assert all(earliest < p.posted_at <= BASE_DATE for p in corpus.postings)


def test_resumes_are_consistent_and_in_their_own_words(corpus: Corpus) -> None:
    families = {f.key: f for f in FAMILIES}
    years_range = {
        "intern": (0, 1),
        "junior": (0, 2),
        "mid": (2, 5),
        "senior": (5, 9),
        "lead": (8, 14),
        "principal": (12, 25),
    }
    own_share = []
    for resume in corpus.resumes:
        family = families[resume.role_family]
        low, high = years_range[resume.seniority]
        assert low <= resume.years_experience <= high
        assert 5 <= len(resume.skills) <= 12
        vocabulary = set(family.core_skills) | set(family.optional_skills)
        own_share.append(sum(s in vocabulary for s in resume.skills) / len(resume.skills))
        assert resume.name and resume.location and resume.headline
        # Resumes must not reuse the posting sentences, or retrieval would be trivial.
        assert not any(duty in resume.summary for duty in family.duties)
    assert mean(own_share) > 0.8
    assert min(own_share) >= 0.5
    assert sum(share < 1 for share in own_share) > 0.3 * len(own_share), "expected some noise"


def test_write_corpus_writes_jsonl(tmp_path) -> None:
    corpus = generate_corpus(n_postings=25, n_resumes=7, seed=9)
    postings_path, resumes_path = write_corpus(corpus, tmp_path / "out")
    assert postings_path.name == "postings.jsonl" and resumes_path.name == "resumes.jsonl"
    lines = postings_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 25
    assert [JobPosting.model_validate_json(line) for line in lines] == corpus.postings
    lines = resumes_path.read_text(encoding="utf-8").splitlines()
    assert [Resume.model_validate_json(line) for line in lines] == corpus.resumes


def test_career_changers_are_opt_in_hard_cases() -> None:
    plain = generate_corpus(n_postings=0, n_resumes=200, seed=8)
    assert generate_corpus(n_postings=0, n_resumes=200, seed=8, career_changers=0.0) == plain
    mixed = generate_corpus(n_postings=0, n_resumes=200, seed=8, career_changers=0.3)
    families = {f.key: f for f in FAMILIES}
    changers = [r for r in mixed.resumes if "now moving into" in r.summary]
    assert 0.2 * 200 <= len(changers) <= 0.4 * 200
    for resume in changers:
        own = families[resume.role_family]
        # Labelled with the family they target; their past achievements come from elsewhere.
        assert not any(re.search(_pattern(s), resume.summary) for s in own.experience)
        assert any(s in own.core_skills + own.optional_skills for s in resume.skills)
    assert [r.role_family for r in mixed.resumes] == [r.role_family for r in plain.resumes]
    for resume in plain.resumes:  # the check above is not vacuous
        own = families[resume.role_family]
        assert any(re.search(_pattern(s), resume.summary) for s in own.experience)
    with pytest.raises(ValueError, match="career_changers"):
        generate_corpus(10, 10, career_changers=1.5)


def _pattern(template: str) -> str:
    """A regex matching an experience sentence with its {n}/{pct} numbers filled in."""
    return re.sub(r"\\\{(n|pct)\\\}", r"\\d+", re.escape(template))


def test_corpus_is_pinned_across_refactors() -> None:
    # Digest of the corpus as generated before the vocabulary moved to package data; any
    # change to the vocabulary, its order or the random draws changes it (and every seeded
    # figure in the docs with it), so a change here must be deliberate.
    corpus = generate_corpus(n_postings=200, n_resumes=50)
    assert _digest(corpus) == "415d905538bc5e00382ddf12261e011bc210d57c6508e45cb9f481572e71827d"


def test_vocabulary_is_package_data_read_once() -> None:
    import tomllib
    from pathlib import Path

    from services.jobs import vocabulary

    assert vocabulary.families() is vocabulary.families()
    assert vocabulary.FAMILIES == FAMILIES and vocabulary.ROLE_FAMILIES == ROLE_FAMILIES
    assert all(isinstance(f.core_skills, tuple) for f in FAMILIES)
    assert {"cities", "neighbours", "title_forms"} <= set(vocabulary.vocabulary())
    # The JSON files must ship in the wheel, or an installed Beacon cannot generate a corpus.
    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    assert "data/*.json" in pyproject["tool"]["setuptools"]["package-data"]["services.jobs"]

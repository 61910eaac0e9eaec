"""Exports without a skills column, through the API with the real encoder: /v1/classify_match
answers match for an obvious fit and no_match for an obvious miss, and no recommendation list
shows a collapsed duplicate."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from itertools import product
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.core.database import Database
from services.embeddings.refresh import refresh_embeddings
from services.jobs.loaders import read_documents
from services.jobs.match import METHOD
from services.jobs.store import UpsertStats, write_loaded
from services.serving.app import create_app
from services.serving.settings import ServingSettings
from tests.helpers import temporary_database

FIXTURES = Path(__file__).parent / "fixtures"
POSTING_FILES = ("glassdoor_postings.csv", "linkedin_postings.csv", "indeed_postings.csv")
# The obvious fit of each resume category among the Glassdoor-style postings.
FITS = {
    "data_science": "Data Scientist",
    "health_and_fitness": "Registered Nurse - ICU",
    "accountant": "Staff Accountant",
    "java_developer": "Lead Software Engineer",
    "hr": "HR Generalist",
}

FIELD_TITLES = {
    "data_science": {"Data Scientist", "Senior Data Scientist", "Data Analyst"},
    "health_and_fitness": {"Registered Nurse - ICU", "ICU Nurse"},
    "accountant": {"Staff Accountant", "Senior Accountant"},
    "java_developer": {"Software Engineer", "Lead Software Engineer", "Sr. Backend Engineer"},
    "hr": {"HR Generalist"},
}


class Loaded:
    """The API over a database holding only the fixture exports, and what the loads said."""

    def __init__(self, client: TestClient, stats: dict[str, UpsertStats], collapsed: set[str]):
        self.client = client
        self.stats = stats
        self.collapsed = collapsed  # ids of dropped rows that differ from the kept row's id
        self.resumes: dict[str, tuple[str, str]] = {}  # family -> (resume_id, text)
        self.postings: dict[str, tuple[str, str]] = {}  # title -> (job_id, description)


@pytest.fixture(scope="module")
def loaded(pg_admin_url: str, encoder, embedding_settings, tmp_path_factory) -> Iterator[Loaded]:
    home = tmp_path_factory.mktemp("exports-home")
    settings = ServingSettings(
        home=home, mlflow_tracking_uri=f"sqlite:///{home / 'mlflow.db'}", prediction_log=False
    )
    with temporary_database(pg_admin_url) as url, Database(url, min_size=1, max_size=4) as db:
        stats, collapsed = {}, set()
        files = [(name, "postings") for name in POSTING_FILES]
        with db.connection() as conn:
            for name, kind in [*files, ("resumes_category.csv", "resumes")]:
                file = read_documents(FIXTURES / name, kind)  # type: ignore[arg-type]
                stats[name] = write_loaded(conn, file, kind)  # type: ignore[arg-type]
                collapsed |= {c.dropped_id for c in file.collapsed if c.dropped_id != c.kept_id}
            state = Loaded(
                TestClient(create_app(settings, database=db, encoder=encoder)), stats, collapsed
            )
            for family, resume_id, summary in conn.execute(
                "SELECT role_family, resume_id, summary FROM resumes"
            ):
                state.resumes[family] = (resume_id, summary)
            for title, job_id, description in conn.execute(
                "SELECT title, job_id, description FROM job_postings ORDER BY job_id"
            ):
                state.postings.setdefault(title, (job_id, description))
            # Beacon's own layout without a skills column: stored with no skills at all.
            nurse = state.resumes["health_and_fitness"][1]
            nurse_job = state.postings["Registered Nurse - ICU"][1]
            write_loaded(
                conn, read_documents(_native(tmp_path_factory, nurse), "resumes"), "resumes"
            )
            postings_file = _native(tmp_path_factory, nurse_job, posting=True)
            write_loaded(conn, read_documents(postings_file, "postings"), "postings")
        refresh_embeddings(db, encoder, embedding_settings)
        with state.client:
            yield state


def _native(factory, text: str, *, posting: bool = False) -> Path:
    """A one-row file in Beacon's own layout, without the skills column."""
    folder = factory.mktemp("native")
    if posting:
        path = folder / "postings.csv"
        rows = [
            ["job_id", "title", "company", "location", "seniority", "description"],
            ["plain-job", "ICU Nurse", "Lakeside Clinic", "Chicago, IL", "mid", text],
        ]
    else:
        path = folder / "resumes.csv"
        rows = [["resume_id", "headline", "summary"], ["plain-resume", "ICU nurse", text]]
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def _classify(client: TestClient, **body: str) -> dict:
    response = client.post("/v1/classify_match", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_exports_load_with_duplicates_collapsed(loaded: Loaded) -> None:
    assert loaded.stats["glassdoor_postings.csv"] == UpsertStats(inserted=9, collapsed=3)
    assert loaded.stats["resumes_category.csv"] == UpsertStats(inserted=5, collapsed=1)
    assert len(loaded.collapsed) == 2  # two city reposts; the exact repeat shares its id


def test_obvious_fits_match_and_misses_do_not_by_id(loaded: Loaded) -> None:
    """Every resume against every category's obvious posting: 5 fits, 20 misses."""
    for family, title in product(FITS, FITS.values()):
        resume_id, _ = loaded.resumes[family]
        job_id, _ = loaded.postings[title]
        body = _classify(loaded.client, resume_id=resume_id, job_id=job_id)
        assert body["method"] == METHOD  # no classifier registered: the rule answers
        expected = "match" if FITS[family] == title else "no_match"
        assert body["label"] == expected, (family, title, body)
        if expected == "match":
            # Skills were extracted at load, so the rule sees an overlap it can use.
            assert body["features"]["skill_overlap"] > 0.2 and body["probability"] > 0.9
        else:
            assert body["probability"] < 0.1


def test_pasted_texts_without_skills(loaded: Loaded) -> None:
    """Raw resume and posting text (no skills line): skills come from the vocabulary, which
    includes the built-in lexicon even though no stored posting came with a skills field."""
    _, scientist = loaded.resumes["data_science"]
    _, nurse = loaded.resumes["health_and_fitness"]
    _, ds_job = loaded.postings["Data Scientist"]
    _, nurse_job = loaded.postings["Registered Nurse - ICU"]
    _, engineer_job = loaded.postings["Lead Software Engineer"]
    fit = _classify(loaded.client, resume_text=scientist, job_text=ds_job)
    assert fit["label"] == "match" and fit["features"]["skill_overlap"] > 0.2
    assert _classify(loaded.client, resume_text=nurse, job_text=nurse_job)["label"] == "match"
    miss = _classify(loaded.client, resume_text=nurse, job_text=engineer_job)
    assert miss["label"] == "no_match" and miss["features"]["skill_overlap"] == 0.0
    mixed = _classify(
        loaded.client, resume_text=scientist, job_id=loaded.postings["HR Generalist"][0]
    )
    assert mixed["label"] == "no_match"


def test_stored_documents_without_skills_use_their_text(loaded: Loaded) -> None:
    """A Beacon-layout file without skills stores none; the match reads them from the text."""
    body = _classify(loaded.client, resume_id="plain-resume", job_id="plain-job")
    assert body["label"] == "match" and body["features"]["skill_overlap"] > 0.5
    miss = _classify(
        loaded.client, resume_id="plain-resume", job_id=loaded.postings["HR Generalist"][0]
    )
    assert miss["label"] == "no_match"


def test_no_recommendation_list_shows_a_collapsed_duplicate(loaded: Loaded) -> None:
    for family, (resume_id, summary) in loaded.resumes.items():
        for body in ({"resume_id": resume_id}, {"text": summary}):
            response = loaded.client.post("/v1/recommend_jobs", json={**body, "top_k": 20})
            assert response.status_code == 200, response.text
            results = response.json()["results"]
            assert len(results) == 15  # every stored posting, each once
            ids = [r["job_id"] for r in results]
            assert len(set(ids)) == len(ids) and not loaded.collapsed & set(ids)
            # A posting of the resume's own field leads its list.
            assert results[0]["title"] in FIELD_TITLES[family], (family, results[0]["title"])

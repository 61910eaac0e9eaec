"""Embeddings knows no workload: document kinds are registered by their owners."""

from __future__ import annotations

import pytest

from services.embeddings import documents
from services.embeddings.refresh import refresh_embeddings


def test_registered_jobs_kinds_and_file_names():
    # tests/conftest.py imports services.jobs.embedding, as the beacon CLI does.
    kinds = documents.registered_kinds()
    assert {"postings", "resumes"} <= set(kinds)
    assert documents.kind_of_file("Day1_Postings.csv.gz").name == "postings"
    assert documents.kind_of_file("resumes.jsonl").name == "resumes"
    assert documents.kind_of_file("events.csv") is None


def test_no_registered_kind_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(documents, "_KINDS", {})
    with pytest.raises(LookupError, match="no document kinds are registered"):
        documents.registered_kinds()


def test_unknown_kind_is_refused_before_any_work():
    with pytest.raises(ValueError, match="unknown document kind 'films'"):
        refresh_embeddings(None, None, None, kinds=["films"])  # type: ignore[arg-type]

"""The document kinds the refresh embeds: where they live and how their text is built."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.jobs.documents import JobPosting, Resume, posting_text, resume_text


@dataclass(frozen=True)
class DocumentKind:
    """A table of documents with a content hash and an embedding column."""

    name: str
    table: str
    id_column: str
    text_columns: tuple[str, ...]
    build_text: Callable[[dict[str, Any]], str]
    #: Table of retrieval passages (one row per chunk), or None to keep only the document vector.
    chunk_table: str | None = None


POSTINGS = DocumentKind(
    name="postings",
    table="job_postings",
    id_column="job_id",
    text_columns=(
        "job_id",
        "title",
        "company",
        "location",
        "remote",
        "seniority",
        "skills",
        "description",
    ),
    build_text=lambda row: posting_text(JobPosting.model_construct(**row)),
    chunk_table="job_chunks",
)

RESUMES = DocumentKind(
    name="resumes",
    table="resumes",
    id_column="resume_id",
    text_columns=("resume_id", "headline", "summary", "skills"),
    build_text=lambda row: resume_text(Resume.model_construct(**row)),
)

KINDS: dict[str, DocumentKind] = {kind.name: kind for kind in (POSTINGS, RESUMES)}

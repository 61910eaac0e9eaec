"""The jobs workload's documents for the embeddings refresh: postings and resumes.

Importing this module registers both kinds with `services.embeddings.documents`; the `beacon`
CLI, the demo and the API import it, so `embed refresh` knows them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from services.embeddings.documents import DocumentKind, register_kinds
from services.jobs.documents import JobPosting, Resume, posting_text, resume_text
from services.jobs.loaders import Kind


def _loader(kind: Kind) -> Any:
    def load(conn: psycopg.Connection[Any], path: Path, replace: bool) -> object:
        from services.jobs.store import load_file

        return load_file(conn, path, kind, replace=replace)

    return load


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
    load_file=_loader("postings"),
    file_word="posting",
)

RESUMES = DocumentKind(
    name="resumes",
    table="resumes",
    id_column="resume_id",
    text_columns=("resume_id", "headline", "summary", "skills"),
    build_text=lambda row: resume_text(Resume.model_construct(**row)),
    load_file=_loader("resumes"),
    file_word="resume",
)

register_kinds(POSTINGS, RESUMES)

"""`beacon data ...`: generate the sample corpus and load postings/resumes files."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import typer

from services.core.cli_support import cli_job, setup
from services.core.database import Database
from services.core.settings import CoreSettings

app = typer.Typer(help="Jobs data: sample corpus and file loading.", no_args_is_help=True)

Kind = Literal["postings", "resumes"]


class DocumentKind(StrEnum):
    """What a loaded file holds (choices listed by --help)."""

    postings = "postings"
    resumes = "resumes"


class LayoutChoice(StrEnum):
    """Column layouts of `data load` (services.jobs.exports.LAYOUT_NAMES, plus auto)."""

    auto = "auto"
    beacon = "beacon"
    glassdoor = "glassdoor"
    job_board = "job-board"
    resume_category = "resume-category"


@app.command("generate")
@cli_job
def generate_command(
    postings: Annotated[int, typer.Option(min=1, help="Number of job postings.")] = 5000,
    resumes: Annotated[int, typer.Option(min=1, help="Number of resumes.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed; equal seeds give equal corpora.")] = 7,
    out: Annotated[
        Path | None,
        typer.Option(help="Write postings.jsonl/resumes.jsonl here instead of loading."),
    ] = None,
) -> None:
    """Generate the deterministic sample corpus and load it (or write it to --out)."""
    from services.jobs.store import upsert_postings, upsert_resumes
    from services.jobs.synthetic import generate_corpus, write_corpus

    settings = CoreSettings()
    setup(settings)
    corpus = generate_corpus(n_postings=postings, n_resumes=resumes, seed=seed)
    if out is not None:
        paths = write_corpus(corpus, out)
        typer.echo("wrote " + ", ".join(str(p) for p in paths))
        return
    with Database.from_settings(settings) as db, db.connection() as conn:
        result = {
            "postings": str(upsert_postings(conn, corpus.postings, replace=True)),
            "resumes": str(upsert_resumes(conn, corpus.resumes, replace=True)),
        }
    typer.echo(json.dumps(result, indent=2))


@app.command("load")
@cli_job
def load_command(
    path: Annotated[Path, typer.Argument(help="CSV or JSONL file (optionally .gz).")],
    kind: Annotated[DocumentKind, typer.Option(help="What the file holds.")],
    replace: Annotated[
        bool, typer.Option(help="The file is the full set: delete documents missing from it.")
    ] = False,
    layout: Annotated[
        LayoutChoice,
        typer.Option(help="Column layout; auto reads it from the header (docs/data-formats.md)."),
    ] = LayoutChoice.auto,
    encoding: Annotated[
        str,
        typer.Option(
            help="Text encoding: auto (UTF-8, lines that are not read as Windows-1252) or a"
            " codec name such as latin-1 or utf-16."
        ),
    ] = "auto",
) -> None:
    """Validate a whole file, then write it in one transaction (a bad row writes nothing).

    Job-board and resume exports load as they come: the layout is recognised from the header,
    salaries are parsed, seniority inferred, skills extracted and near-duplicates collapsed.
    """
    from services.jobs.loaders import read_documents
    from services.jobs.store import write_loaded

    settings = CoreSettings()
    setup(settings)
    loaded = read_documents(path, kind.value, layout=layout.value, encoding=encoding)  # type: ignore[arg-type]
    typer.echo(f"read {path.name}: {loaded.describe()}")
    with Database.from_settings(settings) as db, db.connection() as conn:
        stats = write_loaded(conn, loaded, kind.value, replace=replace)  # type: ignore[arg-type]
    typer.echo(str(stats))

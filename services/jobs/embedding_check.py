"""`beacon embed check` (jobs documents): row counts and a retrieval sanity query (a gate)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from services.core.cli_support import cli_job, setup
from services.core.database import Database
from services.embeddings.hnsw import set_search_params
from services.embeddings.settings import EmbeddingSettings
from services.jobs.store import document_counts
from services.mlops.gates import GATE_FAILED


@cli_job
def check_command(
    min_postings: Annotated[int, typer.Option(min=0, help="Fewest postings expected.")] = 1,
    min_resumes: Annotated[int, typer.Option(min=0, help="Fewest resumes expected.")] = 0,
    sample: Annotated[
        int, typer.Option(min=1, help="Most recently embedded postings to look up by vector.")
    ] = 5,
    top_k: Annotated[int, typer.Option(min=1, help="Rank a sampled posting must reach.")] = 3,
) -> None:
    """Fail (exit 1) unless every document is embedded and recent postings find themselves.

    The retrieval check searches the HNSW index with each sampled posting's own vector: a
    posting that is not among its own nearest `top_k` means a broken vector or index.
    """
    settings = EmbeddingSettings()
    setup(settings)
    problems: list[str] = []
    report: dict[str, object] = {}
    with Database.from_settings(settings) as db, db.connection() as conn:
        counts = document_counts(conn)
        for kind in ("postings", "resumes"):
            rows, embedded = counts[kind]
            report[kind] = {"rows": rows, "embedded": embedded}
            least = min_postings if kind == "postings" else min_resumes
            if rows < least:
                problems.append(f"{kind}: {rows} rows, expected at least {least}")
            if embedded < rows:
                problems.append(f"{kind}: {rows - embedded} of {rows} rows have no embedding")
        set_search_params(conn, max(top_k, 40))
        recent = [
            r[0]
            for r in conn.execute(
                "SELECT job_id FROM job_postings WHERE embedding IS NOT NULL"
                " ORDER BY embedded_at DESC, job_id LIMIT %s",
                (sample,),
            )
        ]
        missed = []
        for job_id in recent:
            hits = [
                r[0]
                for r in conn.execute(
                    "SELECT job_id FROM job_postings WHERE embedding IS NOT NULL ORDER BY"
                    " embedding <=> (SELECT embedding FROM job_postings WHERE job_id = %s)"
                    " LIMIT %s",
                    (job_id, top_k),
                )
            ]
            if job_id not in hits:
                missed.append(job_id)
        report["retrieval"] = {"checked": recent, "missed": missed}
        if missed:
            problems.append(f"retrieval: {len(missed)} posting(s) not in their own top {top_k}")
    report["passed"] = not problems
    typer.echo(json.dumps(report, indent=2))
    if problems:
        typer.secho("check failed: " + "; ".join(problems), fg=typer.colors.RED, err=True)
        raise typer.Exit(code=GATE_FAILED)

"""`beacon train match`: train, register and promote the resume-job match classifier."""

from __future__ import annotations

from typing import Annotated

import typer

from services.core.cli_support import cli_job, setup
from services.mlops.gates import GATE_FAILED


@cli_job
def train_match_command(
    seed: Annotated[int, typer.Option(help="Seed of the split, pair sample and model.")] = 7,
    max_pairs: Annotated[
        int, typer.Option(min=1000, help="Training pairs sampled from resumes x postings.")
    ] = 150_000,
) -> None:
    """Train the match classifier on the stored corpus's labelled pairs (role family and
    seniority), compare it with the similarity rule on held-out pairs, log it to MLflow,
    register it as `job-match` (challenger) and promote it when it passes the
    champion/challenger gate. Needs embedded documents: `beacon data generate`, then
    `beacon embed refresh`. Exits 1 when the gate keeps the current champion.
    """
    from services.core.database import Database, resolve_database_url
    from services.jobs.match_training import train_match
    from services.training.settings import TrainingSettings

    settings = TrainingSettings()
    setup(settings)
    url = resolve_database_url(settings)
    with Database(url) as db:
        outcome = train_match(
            settings, db, database_url=url, seed=seed, max_pairs=max_pairs, say=typer.echo
        )
    if not outcome.gate.passed:
        raise typer.Exit(code=GATE_FAILED)

"""`beacon train ...` and `beacon model ...`: training jobs, gates and registry operations."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from services.core.cli_support import cli_job, setup
from services.core.errors import BeaconError, InputError
from services.mlops.gates import GATE_FAILED

train_app = typer.Typer(
    help="Training jobs: hyperparameter search, MLflow tracking, gates, promotion.",
    no_args_is_help=True,
)
model_app = typer.Typer(
    help="Registered models: list versions, promote, roll back (MLflow aliases).",
    no_args_is_help=True,
)

DATA_HELP = (
    "A diabetic_data.csv file (local path or s3:// URI) in the layout of the public "
    "Diabetes 130-US hospitals data. Default: generated data (BEACON_READMISSION_ROWS rows)."
)
WORKER_HELP = (
    "Run one HPO worker of N: I/N (0-based) or auto (this instance's index in a SageMaker "
    "Processing job of InstanceCount N). Every worker needs the same --run-id; worker 0 "
    "searches, waits for the others' trials, then refits and registers once."
)


class Stage(StrEnum):
    """Stages `train readmission --stop-after` can end after (services.training.train.STAGES)."""

    validate = "validate"
    train = "train"
    register = "register"


def _settings(**overrides):
    from services.training.settings import TrainingSettings

    settings = TrainingSettings()
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    setup(settings)
    return settings


@contextmanager
def _local(uri: Path | str | None, settings) -> Iterator[Path | None]:
    """A local path for a local or s3:// input (downloaded to a temporary folder)."""
    if uri is None:
        yield None
        return
    text = str(uri)
    if not text.startswith("s3://"):
        yield Path(text)
        return
    from services.core.storage import Storage, parse_uri

    with tempfile.TemporaryDirectory(prefix="beacon-train-") as tmp:
        local = Path(tmp) / Path(parse_uri(text).key).name
        yield Storage(settings.aws_region).download(text, local)


@contextmanager
def _mlflow_errors() -> Iterator[None]:
    """An unreachable or refusing MLflow server is one clear line (exit 2), not a traceback."""
    from mlflow.exceptions import MlflowException
    from requests.exceptions import RequestException

    try:
        yield
    except (MlflowException, RequestException) as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise BeaconError(f"MLflow: {type(exc).__name__}: {first}") from exc


def _trial_printer(report) -> None:
    auc = f"{report.roc_auc:.4f}" if report.roc_auc is not None else report.state.lower()
    best = f"{report.best:.4f}" if report.best is not None else "-"
    print(
        f"[{report.family}] trial {report.number} ({report.done}/{report.total} done): "
        f"ROC AUC {auc}, best {best} ({report.seconds:.1f}s)",
        file=sys.stderr,
        flush=True,
    )


def _checked_run_id(run_id: str) -> str:
    if not run_id.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise InputError("--run-id may hold letters, digits, '-', '_' and '.' only")
    return run_id


# long-function: 40 lines of typer options; the body checks them, spawns the local workers and
# makes one call (the report is _report_outcome).
@train_app.command("readmission")
@cli_job
def train_readmission_command(
    data: Annotated[str | None, typer.Option("--data", help=DATA_HELP)] = None,
    ids_mapping: Annotated[
        str | None,
        typer.Option(help="IDS_mapping.csv of the public data; codes are checked against it."),
    ] = None,
    trials: Annotated[
        int | None,
        typer.Option(min=1, help="Trials per model family (default BEACON_HPO_TRIALS)."),
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option(help="Run id; rerun with the same id to resume an interrupted run."),
    ] = None,
    families: Annotated[
        list[str] | None,
        typer.Option(
            "--families",
            help="Model families (repeat or comma-separate): logreg, random_forest, hist_gb, "
            "lightgbm. Default BEACON_HPO_FAMILIES.",
        ),
    ] = None,
    stop_after: Annotated[
        Stage | None,
        typer.Option(
            help="End after this stage: validate (data gate), train (search, refit, test "
            "scores), register (performance gate, challenger). Pipelines run one stage per "
            "task with the same --run-id; `beacon model promote --if-better` finishes.",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="HPO workers as local processes sharing each family's study (same trials "
            "budget in total); this process is worker 0.",
        ),
    ] = 1,
    worker: Annotated[str | None, typer.Option(help=WORKER_HELP, show_default=False)] = None,
) -> None:
    """Train the 30-day readmission model: search, refit, gates, register, promote.

    Prints each trial and, per model family, the ROC AUC on the test split. Exits 1 when a
    gate fails (data validation, performance floor, champion/challenger), 2 on bad input.
    """
    from services.core.database import resolve_database_url
    from services.core.shards import Shard, parse_shard
    from services.training.families import parse_families
    from services.training.train import load_data, new_run_id, train_readmission

    stage = stop_after.value if stop_after is not None else None

    if worker is not None and workers > 1:
        raise InputError("--workers starts local workers; --worker is one of them: pick one")
    part = parse_shard(worker, "--worker") if worker else Shard(0, workers)
    if part.index != 0 and run_id is None:
        raise InputError(f"--worker {worker} needs the --run-id of worker 0")

    settings = _settings()
    chosen = parse_families(families) if families else parse_families(settings.hpo_families)
    run_id = _checked_run_id(run_id or new_run_id())
    typer.echo(f"run id {run_id} (rerun with --run-id {run_id} to resume)")
    with _local(data, settings) as path, _local(ids_mapping, settings) as mapping:
        frame, source = load_data(settings, path, mapping)
    children = []
    if workers > 1 and stage != "validate":
        from services.training.parallel import spawn_local_workers

        passed = ["--run-id", run_id, "--families", ",".join(chosen)]
        passed += [f"--{n}={v}" for n, v in (("data", data), ("ids-mapping", ids_mapping),
                                             ("trials", trials)) if v is not None]  # fmt: skip
        children = spawn_local_workers(passed, workers)
    try:
        with _mlflow_errors():
            shared = {
                "database_url": resolve_database_url(settings),
                "frame": frame,
                "run_id": run_id,
                "families": chosen,
                "trials": trials,
                "say": typer.echo,
                "on_trial": _trial_printer,
            }
            if part.index != 0:
                from services.training.parallel import search_worker

                outcome = search_worker(settings, worker=part, **shared)
            else:
                outcome = train_readmission(
                    settings,
                    source=source,
                    stop_after=stage,
                    worker=None if part.whole else part,
                    **shared,
                )
    except BaseException:
        for child in children:
            child.terminate()  # worker 0 failed: nothing will use their trials
        raise
    finally:
        for child in children:
            if child.wait() != 0:
                # Worker 0 has already rerun whatever trials a dead worker left.
                typer.echo(f"warning: a local HPO worker exited with {child.returncode}", err=True)
    _report_outcome(outcome)


def _report_outcome(outcome: Any) -> None:
    """Print the test ROC AUC per family; exit GATE_FAILED naming the gates that failed."""
    from services.training.train import interval_text

    if outcome.families:
        typer.echo("\nROC AUC on the test split, best model per family:")
        for result in sorted(outcome.families, key=lambda r: -r.test["roc_auc"]):
            typer.echo(
                f"  {result.label:<22} {result.test['roc_auc']:.4f}{interval_text(result.test)}"
                f"   (validation {result.valid['roc_auc']:.4f}, {result.trials} trials)"
            )
    if not outcome.passed:
        failed = ", ".join(g.name for g in outcome.gates if not g.passed)
        typer.secho(f"gate failed: {failed}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=GATE_FAILED)


@train_app.command("validate")
@cli_job
def validate_command(
    data: Annotated[str | None, typer.Option("--data", help=DATA_HELP)] = None,
    batch: Annotated[
        int, typer.Option(min=1, help="Which later batch to validate (1 = oldest).")
    ] = 1,
    batches: Annotated[
        int, typer.Option(min=1, help="Number of batches the later encounters are cut into.")
    ] = 8,
    verbose: Annotated[bool, typer.Option(help="Show passing checks too.")] = False,
) -> None:
    """Data gate on one later batch against the training split (schema, missing, ranges, drift).

    Exits 1 when the batch fails validation.
    """
    from services.training.gates import validate_data
    from services.training.informative import uninformative_columns
    from services.training.readmission_splits import split_readmission
    from services.training.train import load_data

    settings = _settings()
    if batch > batches:
        raise InputError(f"--batch {batch} is beyond --batches {batches}")
    with _local(data, settings) as path:
        frame, source = load_data(settings, path, None)
    splits = split_readmission(frame, initial_share=settings.initial_share, seed=settings.seed)
    current = splits.future_batches(batches)[batch - 1]
    typer.echo(f"{source}: batch {batch}/{batches} ({len(current)} rows) vs training split")
    result = validate_data(
        current,
        splits.train,
        max_missing_increase=settings.validation_max_missing_share,
        drift_share=settings.validation_drift_share,
        require_target=True,
        ignore=list(uninformative_columns(splits.train)),
    )
    typer.echo(result.report(verbose=verbose))
    if not result.passed:
        raise typer.Exit(code=GATE_FAILED)


@train_app.command("generate")
@cli_job
def generate_command(
    out: Annotated[Path, typer.Option(help="CSV file to write.")] = Path("diabetic_data.csv"),
    rows: Annotated[int, typer.Option(min=10, help="Encounters to generate.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives the same file.")] = 42,
) -> None:
    """Write generated encounters in the layout of diabetic_data.csv (no real patients)."""
    from services.training.readmission_io import write_readmission_csv
    from services.training.readmission_synthetic import generate_readmission

    path = write_readmission_csv(generate_readmission(rows, seed=seed), out)
    typer.echo(f"wrote {rows} encounters to {path}")


@train_app.command("ingest")
@cli_job
def ingest_command(
    run_id: Annotated[str, typer.Option(help="Run id (a pipeline passes its partition).")],
    data: Annotated[str | None, typer.Option("--data", help=DATA_HELP)] = None,
    ids_mapping: Annotated[
        str | None,
        typer.Option(help="IDS_mapping.csv of the public data; codes are checked against it."),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(help="Snapshot URI. Default: <storage>/training/readmission/<run id>/."),
    ] = None,
) -> None:
    """Validate the readmission data and freeze it in storage for one training run.

    Every later stage reads the snapshot (`--data <uri>`); an existing snapshot is kept, so a
    rerun of the run sees the same rows. Prints the snapshot URI.
    """
    from services.training.steps import ingest

    settings = _settings()
    run_id = _checked_run_id(run_id)
    with _local(data, settings) as path, _local(ids_mapping, settings) as mapping:
        snapshot = ingest(settings, run_id=run_id, data=path, ids_mapping=mapping, out=out)
    rows = "kept" if snapshot.rows is None else f"{snapshot.rows} encounters"
    typer.echo(f"snapshot of run {run_id} ({snapshot.source}, {rows}): {snapshot.uri}")


@model_app.command("list")
@cli_job
def list_command(name: Annotated[str, typer.Argument(help="Registered model name.")]) -> None:
    """Versions of a registered model, newest first, with aliases and test metrics."""
    from services.mlops.registry import list_models

    with _mlflow_errors():
        rows = list_models(name, _settings())
    typer.echo(f"{'version':>7}  {'aliases':<20} {'family':<14} {'test AUC':>8} "
               f"{'PR AUC':>7} {'Brier':>7} {'threshold':>9}  trained at")  # fmt: skip
    for row in rows:
        m = row.metrics
        auc, pr, brier = (
            f"{m[k]:.4f}" if k in m else "-" for k in ("test_roc_auc", "test_pr_auc", "test_brier")
        )
        threshold = f"{float(row.threshold):.4f}" if row.threshold else "-"
        typer.echo(
            f"{row.version:>7}  {','.join(row.aliases) or '-':<20} {row.family or '-':<14} "
            f"{auc:>8} {pr:>7} {brier:>7} {threshold:>9}  {row.trained_at or '-'}"
        )


@model_app.command("promote")
@cli_job
def promote_command(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[
        str | None, typer.Option(help="Version to promote. Default: the challenger.")
    ] = None,
    if_better: Annotated[
        bool,
        typer.Option(
            "--if-better",
            help="Run the champion/challenger gate on the test split of --data first; move "
            "the alias only when it passes (exit 1 otherwise).",
        ),
    ] = False,
    data: Annotated[str | None, typer.Option("--data", help=DATA_HELP)] = None,
    run_id: Annotated[
        str | None,
        typer.Option(help="With --if-better: judge the version this training run registered."),
    ] = None,
) -> None:
    """Move the champion alias to a version (an operator override: gates are not rerun).

    With --if-better the gates' last step runs instead: the candidate must not score worse
    than the champion on the same test encounters.
    """
    from services.mlops.registry import promote

    if not if_better:
        if data or run_id:
            raise InputError("--data and --run-id only apply with --if-better")
        with _mlflow_errors():
            typer.echo(promote(name, _settings(), version).describe("promoted"))
        return
    from services.core.database import resolve_database_url
    from services.training.steps import promote_if_better

    settings = _settings()
    with _local(data, settings) as path, _mlflow_errors():
        result = promote_if_better(
            settings,
            database_url=resolve_database_url(settings),
            data=path,
            model_name=name,
            run_id=run_id,
            version=version,
        )
    typer.echo(result.gate.report())
    if result.move is None:
        typer.secho(f"gate failed: {result.gate.name}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=GATE_FAILED)
    typer.echo(result.move.describe("promoted"))


@model_app.command("rollback")
@cli_job
def rollback_command(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
) -> None:
    """Give the champion alias back to the previous champion."""
    from services.mlops.registry import rollback

    with _mlflow_errors():
        typer.echo(rollback(name, _settings()).describe("rolled back"))

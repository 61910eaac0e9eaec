"""`beacon drift check` and `beacon simulate`: drift reports, gates and the retraining loop."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from services.core.cli_support import cli_job, setup
from services.core.errors import InputError
from services.mlops.gates import GATE_FAILED

app = typer.Typer(
    help="Drift checks of a model's incoming data, predictions and performance.",
    no_args_is_help=True,
)


class Scenario(StrEnum):
    """Drift scenarios of the generated data (services.training.drift_scenarios.SCENARIOS)."""

    default = "default"
    none = "none"


def drift_settings():
    """The drift settings, read once, with logging configured."""
    from services.drift.settings import DriftSettings

    settings = DriftSettings()
    setup(settings)
    return settings


# long-function: 50 of its lines declare the typer options; the body picks one of three batch
# sources (each a few lines with its own quiet-day exit) and prints the verdict.
@app.command("check")
@cli_job
def check_command(
    model: Annotated[
        str, typer.Option(help="Registered model whose reference the batch is compared with.")
    ] = "readmission",
    batch: Annotated[
        int | None,
        typer.Option(min=1, help="A later batch of the generated data (1 = oldest)."),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            help="A batch file in the diabetic_data.csv layout, labels included (path or s3://).",
        ),
    ] = None,
    live: Annotated[
        bool, typer.Option(help="Check the predictions the API logged (see --since).")
    ] = False,
    since: Annotated[str, typer.Option(help="With --live: how far back, e.g. 30m, 1h, 7d.")] = "1h",
    until: Annotated[
        str | None,
        typer.Option(
            help="With --live: end of the window (ISO 8601, e.g. 2026-11-23T00:00:00+00:00). "
            "Default: now. Pipelines pass their interval end, so a rerun checks the same rows."
        ),
    ] = None,
    alias: Annotated[str, typer.Option(help="Registry alias of the checked model.")] = "champion",
    out: Annotated[
        str | None,
        typer.Option(help="Folder or s3:// prefix for the report. Default: the reports folder."),
    ] = None,
    exit_zero: Annotated[
        bool,
        typer.Option(help="Exit 0 even when drift is found (pipelines read summary.json)."),
    ] = False,
    missing_ok: Annotated[
        bool,
        typer.Option(
            help="With --data: no file means no batch today (a quiet day): write a `skipped` "
            "summary that recommends nothing and exit 0, instead of failing."
        ),
    ] = False,
) -> None:
    """Compare a batch with the model's reference: data, prediction and concept drift.

    Writes summary.json, report.html (Evidently), metrics.prom (Prometheus gauges) and
    metrics.emf.jsonl (CloudWatch Embedded Metric Format) into one folder per batch. Exits 1
    when a gate fails, 2 on bad input.
    """
    from services.drift.checks import check_drift
    from services.drift.emit import emf_line, metric_values
    from services.drift.outputs import SUMMARY, default_out, write_outputs
    from services.drift.reference import load_reference

    sources = sum([batch is not None, data is not None, live])
    if sources != 1:
        raise InputError("give exactly one of --batch N, --data FILE or --live")
    if missing_ok and data is None:
        raise InputError("--missing-ok only applies with --data")
    settings = drift_settings()
    scores = None
    if batch is not None:
        from services.drift.batches import generated_batch

        frame, label = generated_batch(settings, batch)
    elif data is not None:
        from services.core.storage import Storage
        from services.drift.batches import file_batch

        if missing_ok and not Storage(settings.aws_region).exists(data):
            label = f"file-{Path(data).stem}"
            reason = f"no batch file at {data}: a quiet day, nothing to check"
            _skip(settings, out or default_out(settings, model, label), model, label, 0, reason)
            return
        frame, label = file_batch(data, settings)
    else:
        from services.core.database import Database
        from services.drift.batches import live_batch, parse_since, parse_until

        window, end = parse_since(since), parse_until(until)
        with Database.from_settings(settings) as db:
            frame, scores, label = live_batch(db, model, window, end)
        if len(frame) < settings.drift_min_rows:
            # Quiet traffic is not an error: record that there was nothing to check.
            reason = (
                f"{len(frame)} live predictions, fewer than BEACON_DRIFT_MIN_ROWS: nothing to check"
            )
            target = out or default_out(settings, model, label)
            _skip(settings, target, model, label, len(frame), reason)
            return
    reference = load_reference(model, settings, alias)
    typer.echo(
        f"reference: {model} version {reference.version} (@{alias}), "
        f"{len(reference.frame)} held-out rows"
    )
    typer.echo(f"checking {label}: {len(frame)} rows")
    result = check_drift(reference, frame, settings, label=label, current_scores=scores)
    for gate in result.gates:
        typer.echo(gate.report())
    target = out or default_out(settings, model, label)
    written = write_outputs(result, settings, target)
    if settings.env != "local":
        # In AWS the job's stdout is its CloudWatch log stream: EMF lines become metrics.
        typer.echo(
            emf_line(
                metric_values(result), namespace=settings.resolved_metrics_namespace, workload=model
            )
        )
    typer.echo(f"report: {written[SUMMARY]} (+ report.html, metrics.prom, metrics.emf.jsonl)")
    verdict = "retraining recommended" if result.retrain_recommended else "no drift"
    typer.echo(f"result: {verdict}")
    if result.retrain_recommended and not exit_zero:
        raise typer.Exit(code=GATE_FAILED)


# long-function: the typer options are most of it; the body (46 lines) checks them and
# calls simulate.
@cli_job
def simulate_command(
    batches: Annotated[
        int, typer.Option(min=1, help="How many later batches to walk, oldest first.")
    ] = 8,
    scenario: Annotated[
        Scenario | None,
        typer.Option(help="Drift scenario (none is the no-drift control)."),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            help="Run the loop on your file instead (diabetic_data.csv or the UCI zip, path or "
            "s3://): its oldest --initial-share trains the first model, the rest is cut into "
            "--batches time-ordered batches.",
        ),
    ] = None,
    ids_mapping: Annotated[
        str | None,
        typer.Option(help="With --data: IDS_mapping.csv; codes are checked against it."),
    ] = None,
    initial_share: Annotated[
        float | None,
        typer.Option(
            min=0.01,
            max=0.9,
            help="Oldest share that trains the first model (BEACON_INITIAL_SHARE).",
        ),
    ] = None,
    control: Annotated[
        bool,
        typer.Option(
            help="With --data: the same rows in a shuffled time order, where nothing drifts; "
            "it should retrain at most once."
        ),
    ] = False,
    rows: Annotated[
        int | None,
        typer.Option(min=1000, help="Encounters to generate (default BEACON_READMISSION_ROWS)."),
    ] = None,
    trials: Annotated[
        int | None,
        typer.Option(min=1, help="Trials per family when retraining (BEACON_SIMULATE_TRIALS)."),
    ] = None,
) -> None:
    """Walk later batches in time order: score, check drift, retrain, gate, promote or keep.

    Each decision is printed with its reason, with the ROC AUC of the served model and of the
    never-retrained first model. Writes a timeline (timeline.png, timeline.html,
    timeline.json) and one drift report per batch under <reports>/simulation/<name>/. The
    model is registered as readmission-sim-<name>, apart from the served `readmission`.
    """
    from services.drift.simulate import (
        file_simulation,
        generated_simulation,
        simulate,
        simulation_root,
    )
    from services.drift.timeline import PAGE, PNG, write_timeline
    from services.training.drift_scenarios import get_scenario

    settings = drift_settings()
    overrides = {
        "drift_scenario": scenario.value if scenario is not None else None,
        "readmission_rows": rows,
        "simulate_trials": trials,
        "initial_share": initial_share,
    }
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    if data is None:
        if control or ids_mapping:
            raise InputError("--control and --ids-mapping only apply with --data")
        get_scenario(settings.drift_scenario)  # a bad name fails before any work
        if batches > settings.drift_batches:
            raise InputError(f"--batches: at most {settings.drift_batches} (BEACON_DRIFT_BATCHES)")
        source = generated_simulation(settings, batches)
    else:
        if scenario is not None or rows is not None:
            raise InputError("--scenario and --rows apply to generated data, not with --data")
        from services.drift.batches import local_copy
        from services.training.train import load_data

        with local_copy(data, settings) as path, local_copy(ids_mapping, settings) as mapping:
            frame, label = load_data(settings, path, mapping)
        source = file_simulation(settings, frame, label, batches, control=control)
    simulation = simulate(settings, n_batches=batches, say=typer.echo, data=source)
    limits = (settings.drift_column_share, settings.drift_prediction_threshold)
    written = write_timeline(simulation, simulation_root(settings, source.name), limits)
    gain = simulation.mean_roc_auc()
    typer.echo(
        f"retrained after batch(es) {simulation.retrain_batches or 'none'}; promoted after "
        f"{simulation.promotion_batches or 'none'}"
    )
    typer.echo(
        f"mean ROC AUC from batch {gain['from_batch']}: served {gain['served']:.4f}, never "
        f"retrained {gain['never_retrained']:.4f} (gain {gain['gain']:+.4f})"
    )
    typer.echo(f"timeline: {written[PAGE]} (plot {written[PNG]})")


def _skip(settings, out: str, model: str, label: str, rows: int, reason: str) -> None:
    import json

    from services.core.storage import Storage, join
    from services.drift.outputs import SUMMARY

    summary = {
        "label": label,
        "model": {"name": model},
        "skipped": True,
        "rows": {"current": rows},
        "drift_detected": False,
        "retrain_recommended": False,
        "reasons": [reason],
    }
    uri = join(out, SUMMARY)
    Storage(settings.aws_region).write_bytes(uri, json.dumps(summary, indent=2).encode())
    typer.echo(f"{label}: {reason} (summary {uri})")

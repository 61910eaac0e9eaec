"""Run lookups: the MLflow run that a Beacon run id produced."""

from __future__ import annotations

from services.mlops.registry import TAG_RUN_ID


def find_run(experiment_id: str, run_id: str, *, kind: str, family: str = "") -> str | None:
    """The MLflow run of a Beacon run id (`kind` training or family), or None."""
    import mlflow

    query = f"tags.`{TAG_RUN_ID}` = '{run_id}' AND tags.`beacon.kind` = '{kind}'"
    if family:
        query += f" AND tags.`beacon.family` = '{family}'"
    runs = mlflow.search_runs(
        [experiment_id], filter_string=query, max_results=1, output_format="list"
    )
    return runs[0].info.run_id if runs else None

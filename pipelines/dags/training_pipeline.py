"""training_pipeline: readmission model, one task per stage, from data snapshot to champion."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param, task
from airflow.timetables.trigger import CronTriggerTimetable
from beacon_pipelines import settings
from beacon_pipelines.defaults import dag_kwargs, partition
from beacon_pipelines.executor import beacon_task
from beacon_pipelines.notify import send

DOC = """
### Readmission training pipeline

Weekly (Sunday 03:00 UTC) and on demand (trigger with params; `monitoring_retraining` does
so when drift is found). Every task runs one `beacon` command with the same run id, the
**partition** (`params.run_id`, else the run's date-time), so a rerun resumes instead of
starting over (Optuna studies, MLflow runs and registered versions are keyed by it).

| task | `beacon ...` (same `--run-id R`) | gate |
|---|---|---|
| ingest | `train ingest [--data URI]`: snapshot SNAP in storage | input schema |
| validate_data | `train readmission --data SNAP --stop-after validate` | data validation |
| train_hpo | `... --stop-after train`: Optuna per family, refit, test scores | |
| register_challenger | `... --stop-after register`: floor, alias `challenger` | ROC AUC floor |
| promote | `model promote readmission --if-better --data SNAP` | champion/challenger |
| notify | pipeline event with the outcome | |

A failed gate exits 1 and fails its task without retries; the failure callback notifies.
"""

MODEL = "readmission"
RUN_ID = "{{ partition(dag_run, params) }}"
SNAPSHOT = settings.storage_root() + f"/training/{MODEL}/{RUN_ID}/diabetic_data.csv"
# Unset params mean the job's own defaults (BEACON_HPO_TRIALS, ...): an option that renders
# empty is dropped by the executor.
TRIALS = "{% if params.trials %}--trials={{ params.trials }}{% endif %}"
DATA = "{% if params.data %}--data={{ params.data }}{% endif %}"
FAMILIES = "{% if params.families %}--families={{ params.families }}{% endif %}"

with DAG(
    dag_id="training_pipeline",
    schedule=CronTriggerTimetable("0 3 * * 0", timezone="UTC"),
    dagrun_timeout=timedelta(hours=6),
    params={
        "run_id": Param(None, type=["null", "string"], description="Run id; default: partition"),
        "data": Param(
            None, type=["null", "string"], description="diabetic_data.csv URI; default: generated"
        ),
        "trials": Param(None, type=["null", "integer"], minimum=1, description="Trials/family"),
        "families": Param(None, type=["null", "string"], description="e.g. logreg,hist_gb"),
    },
    **dag_kwargs(DOC, ["training", "readmission"]),
):
    train = ["train", "readmission", "--data", SNAPSHOT, "--run-id", RUN_ID]
    ingest = beacon_task(
        "ingest",
        ["train", "ingest", "--run-id", RUN_ID, DATA],
        max_runtime=timedelta(minutes=30),
    )
    validate = beacon_task(
        "validate_data", [*train, "--stop-after", "validate"], max_runtime=timedelta(minutes=30)
    )
    search = beacon_task(
        "train_hpo",
        [*train, "--stop-after", "train", TRIALS, FAMILIES],
        max_runtime=timedelta(hours=4),
        # Processing instances per environment (infra/config.py hpo_instance_count).
        instance_count=settings.option("hpo_instance_count"),
    )
    register = beacon_task(
        "register_challenger",
        [*train, "--stop-after", "register", TRIALS, FAMILIES],
        max_runtime=timedelta(hours=1),
    )
    promote = beacon_task(
        "promote",
        ["model", "promote", MODEL, "--if-better", "--data", SNAPSHOT, "--run-id", RUN_ID],
        max_runtime=timedelta(minutes=30),
    )

    @task
    def notify(**context) -> None:
        """The run registered a challenger and it won the champion/challenger gate."""
        run_id = partition(context["dag_run"], context["params"])
        send(context, "succeeded", f"{MODEL} run {run_id}: challenger promoted to champion")

    ingest >> validate >> search >> register >> promote >> notify()

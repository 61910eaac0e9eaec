"""monitoring_retraining: daily drift checks; drift triggers training_pipeline and waits for it."""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Param, task
from airflow.timetables.interval import CronDataIntervalTimetable
from beacon_pipelines import settings
from beacon_pipelines.defaults import dag_kwargs
from beacon_pipelines.executor import beacon_task
from beacon_pipelines.notify import send
from beacon_pipelines.storage import join, read_json

DOC = """
### Monitoring and retraining (readmission)

Daily at 04:00 UTC, for the day that ended (`data_interval_start`):

1. **drift_batch** - `beacon drift check --model readmission --data
   <storage>/incoming/readmission/dt=<day>/encounters.csv --out <reports>/batch-<day> --exit-zero
   --missing-ok`: the newest batch of encounters against the champion's reference data. A day
   without a batch file is a quiet day, not a failure: the check writes a `skipped` summary
   (as the nightly refresh does with `embed refresh --missing-ok`).
2. **drift_live** - `beacon drift check --model readmission --live --since <params.live_since>
   --until <data_interval_end> --out <reports>/live-<day> --exit-zero`: the predictions the
   API logged in the window ending with the interval, so a rerun checks the same rows.
3. **decide** - reads both `summary.json` files from storage: any `retrain_recommended` ->
   **trigger_training** (starts `training_pipeline` with run id `drift-<day>` and waits for it),
   else **no_drift**. Too little live traffic is not a failure: that check writes a
   `skipped` summary that never recommends retraining. A live check that failed is reported
   by its failure callback and left out of the decision; the batch check is required.
4. **notify** - the verdict and its reasons as a pipeline event.
5. **live_check_passed** - a leaf that only succeeds when drift_live did: a failed live check
   still lets the batch verdict decide and notify, but the run ends failed, not green.

Reruns of a day write the same report folders and reuse the same training run id.
"""

MODEL = "readmission"
DAY = "{{ data_interval_start | ds }}"
REPORTS = settings.storage_root() + f"/reports/drift/{MODEL}"
BATCH_DATA = settings.storage_root() + f"/incoming/{MODEL}/dt={DAY}/encounters.csv"
CHECKS = {"drift_batch": "batch", "drift_live": "live"}


def summaries(day: str) -> dict[str, dict]:
    """The summaries the checks of `day` wrote (the batch one must exist)."""
    from airflow.exceptions import AirflowFailException

    found = {}
    for task_id, label in CHECKS.items():
        uri = join(REPORTS, f"{label}-{day}", "summary.json")
        try:
            found[task_id] = read_json(uri)
        except FileNotFoundError:
            if task_id == "drift_batch":
                # No verdict on the day's batch: retrying the decision cannot produce one.
                raise AirflowFailException(f"{task_id} wrote no summary ({uri})") from None
    return found


with DAG(
    dag_id="monitoring_retraining",
    schedule=CronDataIntervalTimetable("0 4 * * *", timezone="UTC"),
    dagrun_timeout=timedelta(hours=8),
    params={"live_since": Param("24h", type="string", description="Window of live predictions")},
    **dag_kwargs(DOC, ["monitoring", "drift", "readmission"]),
):
    check = ["drift", "check", "--model", MODEL, "--exit-zero"]
    drift_batch = beacon_task(
        "drift_batch",
        [*check, "--data", BATCH_DATA, "--missing-ok", "--out", f"{REPORTS}/batch-{DAY}"],
        max_runtime=timedelta(minutes=30),
    )
    drift_live = beacon_task(
        "drift_live",
        [
            *check,
            "--live",
            "--since",
            "{{ params.live_since }}",
            "--until",
            "{{ data_interval_end | ts }}",
            "--out",
            f"{REPORTS}/live-{DAY}",
        ],
        max_runtime=timedelta(minutes=30),
    )

    @task.branch(trigger_rule="all_done")
    def decide(**context) -> str:
        """Retrain when any check recommends it."""
        found = summaries(context["data_interval_start"].strftime("%Y-%m-%d"))
        drifted = [t for t, s in found.items() if s.get("retrain_recommended")]
        print(f"checks read: {sorted(found)}; retraining recommended by: {drifted or 'none'}")
        return "trigger_training" if drifted else "no_drift"

    no_drift = EmptyOperator(task_id="no_drift")
    trigger = TriggerDagRunOperator(
        task_id="trigger_training",
        trigger_dag_id="training_pipeline",
        trigger_run_id="drift__{{ data_interval_start | ds_nodash }}",
        conf={"run_id": "drift-{{ data_interval_start | ds_nodash }}"},
        wait_for_completion=True,
        poke_interval=60,
        allowed_states=["success"],
        failed_states=["failed"],
        # A rerun of the day starts no second training run (the first one keeps its id).
        skip_when_already_exists=True,
    )

    @task(trigger_rule="none_failed_min_one_success")
    def notify(**context) -> None:
        """Tell people what the checks found and whether a retraining ran."""
        day = context["data_interval_start"].strftime("%Y-%m-%d")
        found = summaries(day)
        reasons = [r for s in found.values() for r in s.get("reasons", [])]
        drifted = any(s.get("retrain_recommended") for s in found.values())
        verdict = "drift found, retrained" if drifted else "no drift"
        send(context, "succeeded", f"{MODEL} {day}: {verdict}. " + "; ".join(reasons[:5]))

    branch = decide()
    [drift_batch, drift_live] >> branch >> [no_drift, trigger]
    [no_drift, trigger] >> notify()
    # decide runs on all_done, so without this leaf a failed live check would end the run green.
    drift_live >> EmptyOperator(task_id="live_check_passed")

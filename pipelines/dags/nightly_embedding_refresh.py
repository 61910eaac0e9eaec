"""nightly_embedding_refresh: embed the day's new and changed postings and resumes, then check."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, task
from airflow.timetables.interval import CronDataIntervalTimetable
from beacon_pipelines import settings
from beacon_pipelines.defaults import dag_kwargs
from beacon_pipelines.executor import beacon_task
from beacon_pipelines.notify import send

DOC = """
### Nightly embedding refresh

Every night at 02:00 UTC, for the day that just ended (`data_interval_start`):

1. **refresh** - `beacon embed refresh --source <storage>/incoming/jobs/dt=<day>/ --upsert-only
   --missing-ok` loads that day's postings and resumes files (new and changed documents;
   nothing is deleted; a day without files is a quiet day, not an error) and embeds exactly the
   rows whose content hash changed. With `beacon.refresh_instance_count` N > 1 it is one
   Processing job of N instances, each `--shard auto` (locally N processes, `--shard I/N`).
   `beacon.refresh_workers` (auto in AWS: one per vCPU) splits each instance's share again
   into that many one-thread processes (`--workers`); unset locally, so one process.
2. **check** - `beacon embed check`: every document has a vector, and recently embedded
   postings find themselves through the HNSW index (a retrieval sanity query). Exit 1 fails
   the run.
3. **report** - a pipeline event (EventBridge -> notifier in AWS, the task log locally).

Reruns are safe: the same partition is reloaded by natural id and unchanged rows are skipped.
"""

SOURCE = settings.storage_root() + "/incoming/jobs/dt={{ data_interval_start | ds }}"
WORKERS = settings.workers_option("refresh_workers")

with DAG(
    dag_id="nightly_embedding_refresh",
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    dagrun_timeout=timedelta(hours=3),
    **dag_kwargs(DOC, ["embeddings", "jobs"]),
):
    refresh = beacon_task(
        "refresh",
        [
            *["embed", "refresh", "--source", SOURCE, "--upsert-only", "--missing-ok"],
            *(["--workers", WORKERS] if WORKERS else []),
        ],
        max_runtime=timedelta(hours=2),
        # N Processing instances (or local processes), each embedding its shard of the ids.
        instances=settings.instance_count("refresh_instance_count"),
        shard_flag="--shard",
    )
    check = beacon_task("check", ["embed", "check"], max_runtime=timedelta(minutes=20))

    @task
    def report(**context) -> None:
        """Say the refresh of this partition passed its checks."""
        day = context["data_interval_start"].strftime("%Y-%m-%d")
        send(context, "succeeded", f"embeddings refreshed and checked for {day}")

    refresh >> check >> report()

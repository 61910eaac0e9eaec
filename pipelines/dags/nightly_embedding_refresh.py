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
   rows whose content hash changed.
2. **check** - `beacon embed check`: every document has a vector, and recently embedded
   postings find themselves through the HNSW index (a retrieval sanity query). Exit 1 fails
   the run.
3. **report** - a pipeline event (EventBridge -> notifier in AWS, the task log locally).

Reruns are safe: the same partition is reloaded by natural id and unchanged rows are skipped.
"""

SOURCE = settings.storage_root() + "/incoming/jobs/dt={{ data_interval_start | ds }}"

with DAG(
    dag_id="nightly_embedding_refresh",
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    dagrun_timeout=timedelta(hours=3),
    **dag_kwargs(DOC, ["embeddings", "jobs"]),
):
    refresh = beacon_task(
        "refresh",
        ["embed", "refresh", "--source", SOURCE, "--upsert-only", "--missing-ok"],
        max_runtime=timedelta(hours=2),
        # Processing instances per environment (infra/config.py refresh_instance_count).
        instance_count=settings.option("refresh_instance_count"),
    )
    check = beacon_task("check", ["embed", "check"], max_runtime=timedelta(minutes=20))

    @task
    def report(**context) -> None:
        """Say the refresh of this partition passed its checks."""
        day = context["data_interval_start"].strftime("%Y-%m-%d")
        send(context, "succeeded", f"embeddings refreshed and checked for {day}")

    refresh >> check >> report()

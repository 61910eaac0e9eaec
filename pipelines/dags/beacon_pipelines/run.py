"""Local runner: `python -m beacon_pipelines.run test|inspect|render` in the Airflow venv.

`test` runs one DAG end to end with `dag.test()` (no scheduler, tasks in this process) and
ends with a table of task states; `inspect` prints what the tests check about every DAG;
`render` prints each task's rendered command or Processing job request (AWS mode).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

DAGS_FOLDER = Path(__file__).resolve().parents[1]


def _dagbag() -> Any:
    from airflow.models.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER), include_examples=False, safe_mode=True)


def _quiet_logs() -> None:
    """One readable line per task log record: no duplicates, no HTTP chatter of the task API."""
    import logging

    import structlog

    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The in-process task runner logs through structlog, unfiltered unless told otherwise.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    # dag.test() prints task logs through its own stdout handler; Airflow's root console
    # handler would print each record a second time.
    logging.getLogger("airflow.task").propagate = False


def _migrate() -> None:
    """Create or upgrade Airflow's own (SQLite) metadata database."""
    from airflow.utils.db import upgradedb

    upgradedb()


def _states(dag_run: Any) -> list[tuple[str, str, float]]:
    """(task id, state, seconds) of every task instance of the run, in start order."""
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = dag_run.get_task_instances(session=session)
        far = datetime.max.replace(tzinfo=UTC)
        ordered = sorted(tis, key=lambda ti: (ti.start_date or far, ti.task_id))
        return [(ti.task_id, str(ti.state), round(ti.duration or 0.0, 1)) for ti in ordered]


def test(
    dag_id: str, logical_date: datetime, conf: dict[str, Any], mark_success: str | None
) -> int:
    """Run one DAG locally; 0 when the run succeeded."""
    _migrate()
    _quiet_logs()
    bag = _dagbag()
    if bag.import_errors:
        for path, error in bag.import_errors.items():
            print(f"import error in {path}:\n{error}", file=sys.stderr)
        return 2
    dag = bag.get_dag(dag_id)
    if dag is None:
        print(f"no DAG {dag_id!r}; known: {', '.join(sorted(bag.dag_ids))}", file=sys.stderr)
        return 2
    triggers = [t for t in dag.tasks if type(t).__name__ == "TriggerDagRunOperator"]
    if mark_success is None and triggers:
        # dag.test() has no scheduler to run a triggered DAG run, so waiting for one would
        # never end: the trigger is marked done here and its DAG run next, in this process.
        mark_success = "|".join(t.task_id for t in triggers)
        print(f"==> {mark_success}: marked done; the triggered DAG runs after this one")
    else:
        triggers = []
    print(f"==> {dag_id}: dag.test(logical_date={logical_date.isoformat()}, conf={conf})")
    dag_run = dag.test(logical_date=logical_date, run_conf=conf, mark_success_pattern=mark_success)
    rows = _states(dag_run)
    print(f"\n==> {dag_id} run {dag_run.run_id}: {dag_run.state}")
    width = max(len(task) for task, _, _ in rows)
    for task, state, seconds in rows:
        print(f"    {task:<{width}}  {state:<8} {seconds:>7.1f}s")
    summary = {
        "dag_id": dag_id,
        "state": str(dag_run.state),
        "tasks": {task: state for task, state, _ in rows},
        "seconds": {task: seconds for task, _, seconds in rows},
    }
    print(json.dumps(summary), flush=True)
    code = 0 if str(dag_run.state) == "success" else 1
    for trigger in triggers:
        if code == 0 and summary["tasks"].get(trigger.task_id) == "success":
            context = {"data_interval_start": dag_run.data_interval_start, "params": dag.params}
            then = trigger.render_template(trigger.conf, context, dag.get_template_env())
            code = test(trigger.trigger_dag_id, logical_date, dict(then or {}), None)
    return code


def inspect() -> int:
    """JSON: import errors and, per DAG, the properties the structure tests assert."""
    bag = _dagbag()
    dags = {}
    for dag_id, dag in sorted(bag.dags.items()):
        dags[dag_id] = {
            "fileloc": dag.fileloc,
            "tags": sorted(dag.tags),
            "owner": dag.owner,
            "catchup": dag.catchup,
            "schedule": str(getattr(dag.timetable, "summary", dag.timetable)),
            "doc": dag.doc_md or "",
            "params": sorted(dag.params.keys()),
            "tasks": {
                task.task_id: {
                    "operator": type(task).__name__,
                    "retries": task.retries,
                    "upstream": sorted(task.upstream_task_ids),
                    "trigger_rule": str(task.trigger_rule),
                    "has_failure_callback": bool(task.on_failure_callback),
                }
                for task in dag.tasks
            },
        }
    errors = {path: str(error) for path, error in bag.import_errors.items()}
    print(json.dumps({"import_errors": errors, "dags": dags}, default=str))
    return 0


def render(logical_date: datetime) -> int:
    """JSON: every command task's rendered arguments (local) or job request (AWS mode)."""
    bag = _dagbag()
    out: dict[str, Any] = {}
    for dag_id, dag in sorted(bag.dags.items()):
        interval = dag.timetable.infer_manual_data_interval(run_after=logical_date)
        dag_run = SimpleNamespace(
            dag_id=dag_id,
            run_id=f"manual__{logical_date.isoformat()}",
            logical_date=logical_date,
            data_interval_start=interval.start,
            data_interval_end=interval.end,
            run_after=logical_date,
            conf={},
        )
        params = {k: v for k, v in dag.params.dump().items()}
        context = {
            "dag_run": dag_run,
            "params": params,
            "data_interval_start": interval.start,
            "data_interval_end": interval.end,
            "logical_date": logical_date,
            "ds": logical_date.strftime("%Y-%m-%d"),
            "ds_nodash": logical_date.strftime("%Y%m%d"),
        }
        env = dag.get_template_env()
        for task in dag.tasks:
            if not {"arguments", "config"} & set(task.template_fields):
                continue
            task.render_template_fields(context, env)  # as the worker does before execute()
            fields = {n: getattr(task, n) for n in ("arguments", "config") if hasattr(task, n)}
            if "config" in fields:
                fields["invalid"] = _invalid_processing_request(fields["config"])
            if fields:
                out[f"{dag_id}.{task.task_id}"] = {"operator": type(task).__name__, **fields}
    print(json.dumps(out, default=str))
    return 0


def _invalid_processing_request(config: dict[str, Any]) -> str:
    """Problems of a CreateProcessingJob request per botocore's SageMaker model ('' if none)."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreateProcessingJob").input_shape
    return ParamValidator().validate(config, shape).generate_report()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="beacon_pipelines.run", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("test", help="run one DAG with dag.test()")
    run.add_argument("dag_id")
    run.add_argument("--logical-date", help="ISO date-time (UTC); default: today 02:00")
    run.add_argument("--conf", default="{}", help="run conf / params as JSON")
    run.add_argument("--mark-success", help="regex of task ids to mark successful, not run")
    sub.add_parser("inspect", help="DAG structure as JSON")
    rend = sub.add_parser("render", help="rendered commands / job requests as JSON")
    rend.add_argument("--logical-date")
    args = parser.parse_args(argv)
    when = _when(getattr(args, "logical_date", None))
    if args.command == "test":
        return test(args.dag_id, when, json.loads(args.conf), args.mark_success)
    if args.command == "inspect":
        return inspect()
    return render(when)


def _when(text: str | None) -> datetime:
    if text:
        value = datetime.fromisoformat(text)
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    today = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)
    return today if today <= datetime.now(UTC) else today - timedelta(days=1)


if __name__ == "__main__":
    sys.exit(main())

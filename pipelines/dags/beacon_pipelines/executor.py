"""The executor seam: a task runs one `beacon` command, here as a subprocess or in AWS.

Locally the command runs in the project's environment and its output streams into the task
log. In AWS the same command is the entry point of a SageMaker Processing job (the processing
image runs `beacon ...`), started and watched by the Amazon provider's operator.

A sharded task (`instances` > 1 with a `shard_flag` such as `--shard`) runs as one Processing
job of InstanceCount N whose instances each pass `<flag>=auto` (the CLI reads its index from
/opt/ml/config/resourceconfig.json), or locally as N processes passing `<flag>=I/N`.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.exceptions import AirflowException, AirflowFailException
from airflow.sdk import BaseOperator

from beacon_pipelines import settings
from beacon_pipelines.arguments import present

# `beacon` exit codes (services/core/cli_support.py, services/mlops/gates.py): the DAGs never
# import services, so they mirror the values; tests/services/mlops/test_gates.py keeps them equal.
GATE_FAILED = 1
BAD_INPUT = 2
# SageMaker job names: letters, digits and hyphens, at most 63 characters.
JOB_NAME_LIMIT = 63
PROCESSING_VOLUME_GB = 30


class BeaconCommandOperator(BaseOperator):
    """Run `beacon <arguments>` in a subprocess and stream its output to the task log.

    A failed gate (exit 1) or bad input (exit 2) is a verdict, not a glitch: the task fails
    without retrying. Any other failure (a crash, a kill, a lost database) is retried.
    """

    template_fields: Sequence[str] = ("arguments",)
    ui_color = "#e6f0ff"

    def __init__(
        self,
        *,
        arguments: Sequence[str],
        instances: int = 1,
        shard_flag: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.arguments = list(arguments)
        self.instances = instances
        self.shard_flag = shard_flag
        self._process: subprocess.Popen[str] | None = None
        self._processes: list[subprocess.Popen[str]] = []

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        super().render_template_fields(context, jinja_env)
        self.arguments = present(self.arguments)  # the UI's rendered tab shows the real command

    def execute(self, context: Any) -> None:
        if self.instances > 1 and self.shard_flag:
            self._execute_shards()
            return
        command = [settings.beacon_cli(), *present(self.arguments)]
        self.log.info("$ %s", shlex.join(command))
        self._process = subprocess.Popen(  # the project's own CLI, no shell
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.log.info("%s", line.rstrip())
        _verdict(self._process.wait(), command)

    def _execute_shards(self) -> None:
        """The N shards side by side, each line of output tagged with its shard."""
        import threading  # only sharded tasks need it; the parse-time imports stay minimal

        n = self.instances
        commands = [
            [settings.beacon_cli(), *present(self.arguments), f"{self.shard_flag}={i}/{n}"]
            for i in range(n)
        ]
        readers = []
        for command in commands:
            self.log.info("$ %s", shlex.join(command))
            process = subprocess.Popen(  # the project's own CLI, no shell
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
            )
            self._processes.append(process)
            tag = command[-1].split("=", 1)[1]
            reader = threading.Thread(target=self._stream, args=(process, tag), daemon=True)
            reader.start()
            readers.append(reader)
        codes = [process.wait() for process in self._processes]
        for reader in readers:
            reader.join()
        # A verdict (gate, bad input) outranks a crash: retrying would not change it.
        failed = [(c, cmd) for c, cmd in zip(codes, commands, strict=True) if c != 0]
        failed.sort(key=lambda pair: pair[0] not in (GATE_FAILED, BAD_INPUT))
        if failed:
            _verdict(*failed[0])

    def _stream(self, process: subprocess.Popen[str], tag: str) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.log.info("[%s] %s", tag, line.rstrip())

    def on_kill(self) -> None:
        for process in [self._process, *self._processes]:
            if process is not None and process.poll() is None:
                process.terminate()


def _verdict(code: int, command: Sequence[str]) -> None:
    """Nothing for exit 0; otherwise the Airflow exception that says whether to retry."""
    if code == 0:
        return
    what = shlex.join(["beacon", *command[1:]])
    if code == GATE_FAILED:
        raise AirflowFailException(f"gate failed (exit 1): {what}")
    if code == BAD_INPUT:
        raise AirflowFailException(f"bad input (exit 2): {what}")
    raise AirflowException(f"exit {code}: {what}")


def job_name(prefix: str, task_id: str, partition: str) -> str:
    """A valid, readable SageMaker job name for one task of one partition."""
    clean = re.sub(r"[^a-zA-Z0-9]+", "-", f"{task_id}-{partition}").strip("-")
    # Room for the '-<10-digit timestamp>' the operator appends when a retry finds the name
    # taken, so that suffix never cuts into the task and partition.
    return f"{prefix}{clean}"[: JOB_NAME_LIMIT - 15].rstrip("-")


def processing_config(
    task_id: str, arguments: Sequence[str], *, max_runtime: timedelta, instances: int = 1
) -> dict[str, Any]:
    """CreateProcessingJob request for one `beacon` command (templated by Airflow).

    `instances` (from the environment config, e.g. `beacon.refresh_instance_count`) runs the
    command on that many instances; each reads its place from SageMaker's resource config.
    """
    environment = dict(settings.json_option("processing_environment"))
    cluster: dict[str, Any] = {
        "InstanceCount": instances,
        "InstanceType": settings.required("processing_instance_type"),
        "VolumeSizeInGB": PROCESSING_VOLUME_GB,
    }
    # The ML storage volume under the environment's data key, not an AWS-managed one.
    volume_key = settings.option("processing_volume_kms_key_id")
    if volume_key:
        cluster["VolumeKmsKeyId"] = volume_key
    # Training and promotion log to the managed MLflow app the CDK app created.
    environment["BEACON_MLFLOW_TRACKING_URI"] = settings.required("mlflow_tracking_uri")
    prefix = settings.required("processing_job_name_prefix")
    name = f"job_name({prefix!r}, {task_id!r}, partition(dag_run, params))"
    return {
        "ProcessingJobName": "{{ " + name + " }}",
        "AppSpecification": {
            "ImageUri": settings.required("processing_image_uri"),
            "ContainerEntrypoint": ["beacon", *arguments],
        },
        "ProcessingResources": {"ClusterConfig": cluster},
        "StoppingCondition": {"MaxRuntimeInSeconds": int(max_runtime.total_seconds())},
        "RoleArn": settings.required("processing_role_arn"),
        "NetworkConfig": {
            "VpcConfig": {
                "SecurityGroupIds": settings.json_option("processing_security_group_ids"),
                "Subnets": settings.json_option("processing_subnet_ids"),
            }
        },
        "Environment": environment,
        "Tags": [
            {"Key": "beacon:task", "Value": task_id},
            {"Key": "beacon:env", "Value": settings.required("env")},
        ],
    }


def beacon_task(
    task_id: str,
    arguments: Sequence[str],
    *,
    max_runtime: timedelta = timedelta(hours=1),
    instances: int = 1,
    shard_flag: str | None = None,
    **kwargs: Any,
) -> BaseOperator:
    """The task that runs `beacon <arguments>` where this Airflow runs (local or AWS).

    With `instances` N > 1 and a `shard_flag` the command runs as N shards (module docstring).
    """
    if instances < 1 or (instances > 1 and not shard_flag):
        raise ValueError(f"{task_id}: instances={instances} needs a shard_flag and must be >= 1")
    if not settings.in_aws():
        return BeaconCommandOperator(
            task_id=task_id,
            arguments=arguments,
            instances=instances,
            shard_flag=shard_flag,
            execution_timeout=max_runtime,
            **kwargs,
        )
    if instances > 1:
        arguments = [*arguments, f"{shard_flag}=auto"]
    # Imported only in AWS mode: local Airflow needs no Amazon provider to parse the DAGs.
    from beacon_pipelines.aws import BeaconProcessingOperator

    return BeaconProcessingOperator(
        task_id=task_id,
        config=processing_config(task_id, arguments, max_runtime=max_runtime, instances=instances),
        aws_conn_id=None,  # the MWAA execution role; no Airflow connection to provide
        region_name=settings.required("region"),
        wait_for_completion=True,
        print_log=True,
        check_interval=30,
        action_if_job_exists="timestamp",
        # The job itself is bounded by MaxRuntimeInSeconds; the wait gets a little longer.
        execution_timeout=max_runtime + timedelta(minutes=15),
        **kwargs,
    )

"""Contract with the CDK app: every option the DAGs read is one the MWAA environment sets.

The dev environment is synthesized as tests/infra does; its MWAA `AirflowConfigurationOptions`
(CloudFormation tokens resolved to plausible placeholders) then drive the DAGs in AWS mode,
whose SageMaker Processing requests are checked against botocore's API model.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from pipelines_support import DAGS, REPO, last_json, run_airflow

ACCOUNT, REGION = "111111111111", "us-east-1"
COMMAND_TASKS = {
    "nightly_embedding_refresh": {"refresh", "check"},
    "training_pipeline": {"ingest", "validate_data", "train_hpo", "register_challenger", "promote"},
    "monitoring_retraining": {"drift_batch", "drift_live"},
}


def _load(name: str) -> Any:
    """A beacon_pipelines module, imported without Airflow (its imports of it are lazy)."""
    sys.path.insert(0, str(DAGS))
    try:
        spec = importlib.util.spec_from_file_location(
            f"beacon_pipelines.{name}", DAGS / "beacon_pipelines" / f"{name}.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(DAGS))


@pytest.fixture(scope="module")
def mwaa_options(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """AirflowConfigurationOptions of the synthesized dev environment."""
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    sys.path.insert(0, str(REPO / "tests" / "infra"))
    try:
        from infra_support import build
    finally:
        sys.path.remove(str(REPO / "tests" / "infra"))
    dev = build("dev", tmp_path_factory.mktemp("cdk-dev"))
    return dev.one("AWS::MWAA::Environment", "Ml")["Properties"]["AirflowConfigurationOptions"]


def resolve(value: Any) -> str:
    """A CloudFormation value as the string MWAA would see, with placeholder ids."""
    if isinstance(value, str):
        return value
    ((fn, arg),) = value.items()
    if fn == "Fn::Join":
        separator, parts = arg
        return separator.join(resolve(p) for p in parts)
    if fn == "Fn::Sub":
        text = arg if isinstance(arg, str) else arg[0]
        return re.sub(r"\$\{([^}]+)\}", lambda m: {"AWS::URLSuffix": "amazonaws.com"}.get(
            m.group(1), m.group(1).replace("::", "-").lower()), text)  # fmt: skip
    if fn == "Fn::GetAtt":
        logical_id, attribute = arg
        if attribute == "GroupId":
            return "sg-0123456789abcdef0"
        return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{logical_id.lower()}"
    if fn == "Fn::GetStackOutput":
        name = arg["OutputName"]
        return "subnet-0123456789abcdef0" if "Subnet" in name else f"arn:aws:x:{REGION}:{name}"
    if fn in ("Ref", "Fn::ImportValue"):
        return f"ref-{arg}".lower()
    raise AssertionError(f"unexpected CloudFormation function {fn}")


def test_every_option_the_dags_read_is_set_by_the_cdk_app(mwaa_options: dict[str, Any]) -> None:
    settings = _load("settings")
    provided = {k.removeprefix("beacon.") for k in mwaa_options if k.startswith("beacon.")}
    assert set(settings.AWS_OPTIONS) <= provided, set(settings.AWS_OPTIONS) - provided
    # Local-only options must not be needed in AWS (they would be missing there).
    assert not set(settings.LOCAL_OPTIONS) & set(settings.AWS_OPTIONS)


def test_dags_read_no_variables_connections_or_other_config() -> None:
    """All configuration goes through beacon_pipelines.settings; nothing else is read."""
    names_read: set[str] = set()
    for path in DAGS.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"Variable\.get|import[^\n]*\bVariable\b", text), path.name
        assert not re.search(r"get_connection|BaseHook|conn_id=\"", text), path.name
        if path.name != "settings.py":
            assert "airflow.configuration" not in text and "conf.get" not in text, path.name
        for conn in re.findall(r"aws_conn_id=([^,)\s]+)", text):
            assert conn == "None", f"{path.name}: aws_conn_id={conn} needs a connection"
        names_read |= set(
            re.findall(
                r"(?:option|required|json_option|instance_count|workers_option)\(\s*\"(\w+)\"",
                text,
            )
        )
    settings = _load("settings")
    declared = settings.AWS_OPTIONS + settings.LOCAL_OPTIONS + settings.SCALE_OPTIONS
    assert names_read and names_read <= set(declared)
    assert set(settings.SCALE_OPTIONS) <= names_read  # every scale knob reaches a DAG


def test_aws_mode_starts_valid_processing_jobs_from_the_cdk_values(
    mwaa_options: dict[str, Any], tmp_path: Path
) -> None:
    values = {k.removeprefix("beacon."): resolve(v) for k, v in mwaa_options.items()}
    # Dev runs one instance of each; a prod-like count shows the DAGs pass the config through.
    assert (values["refresh_instance_count"], values["hpo_instance_count"]) == ("1", "1")
    values.update(refresh_instance_count="4", hpo_instance_count="2")
    env = {f"AIRFLOW__BEACON__{k.upper()}": v for k, v in values.items()}
    done = run_airflow(["render", "--logical-date", "2026-11-22T03:00:00"], tmp_path, **env)
    assert done.returncode == 0, done.stderr[-3000:]
    rendered = last_json(done.stdout)
    storage = json.loads(values["processing_environment"])["BEACON_STORAGE_URI"]
    assert storage.startswith("s3://beacon-dev-")
    for dag_id, task_ids in COMMAND_TASKS.items():
        for task_id in task_ids:
            job = rendered[f"{dag_id}.{task_id}"]
            assert job["operator"] == "BeaconProcessingOperator"
            assert job["invalid"] == "", f"{dag_id}.{task_id}: {job['invalid']}"
            config = job["config"]
            assert config["AppSpecification"]["ImageUri"] == values["processing_image_uri"]
            entrypoint = config["AppSpecification"]["ContainerEntrypoint"]
            assert entrypoint[0] == "beacon" and "" not in entrypoint
            assert config["RoleArn"] == values["processing_role_arn"]
            cluster = config["ProcessingResources"]["ClusterConfig"]
            assert cluster["InstanceType"] == "ml.t3.large"
            # Instance storage under the environment's data key (#15), not an AWS-managed key.
            assert cluster["VolumeKmsKeyId"] == values["processing_volume_kms_key_id"]
            expected_count = {"refresh": 4, "train_hpo": 2}.get(task_id, 1)
            assert cluster["InstanceCount"] == expected_count, f"{dag_id}.{task_id}"
            assert config["NetworkConfig"]["VpcConfig"]["Subnets"] == json.loads(
                values["processing_subnet_ids"]
            )
            environment = config["Environment"]
            assert environment["BEACON_STORAGE_URI"] == storage
            assert environment["BEACON_MLFLOW_TRACKING_URI"] == values["mlflow_tracking_uri"]
            name = config["ProcessingJobName"]
            assert name.startswith("beacon-dev-") and re.fullmatch(r"[A-Za-z0-9-]{1,48}", name)
    refresh = rendered["nightly_embedding_refresh.refresh"]["config"]["AppSpecification"]
    assert f"{storage}/incoming/jobs/dt=2026-11-21" in refresh["ContainerEntrypoint"]
    # Each instance splits its share into one-thread processes, one per vCPU (#18).
    assert values["refresh_workers"] == "auto"
    assert refresh["ContainerEntrypoint"][-3:-1] == ["--workers", "auto"]
    _assert_instances(rendered, values)


def _assert_instances(rendered: dict[str, Any], values: dict[str, str]) -> None:
    """Sharded tasks get the configured InstanceCount and `<flag>=auto`; the rest one instance."""
    sharded = {
        "nightly_embedding_refresh.refresh": ("refresh_instance_count", "--shard=auto"),
        "training_pipeline.train_hpo": ("hpo_instance_count", "--worker=auto"),
    }
    for key, job in rendered.items():
        option, flag = sharded.get(key, (None, None))
        count = int(values.get(option, "1")) if option else 1
        config = job["config"]
        assert config["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == count, key
        entrypoint = config["AppSpecification"]["ContainerEntrypoint"]
        if count > 1:
            assert flag in entrypoint, key
        else:
            assert not any(a.endswith("=auto") for a in entrypoint), key


def test_scale_options_make_sharded_processing_jobs(
    mwaa_options: dict[str, Any], tmp_path: Path
) -> None:
    values = {k.removeprefix("beacon."): resolve(v) for k, v in mwaa_options.items()}
    values |= {"refresh_instance_count": "3", "hpo_instance_count": "2"}
    env = {f"AIRFLOW__BEACON__{k.upper()}": v for k, v in values.items()}
    done = run_airflow(["render", "--logical-date", "2026-11-22T03:00:00"], tmp_path, **env)
    assert done.returncode == 0, done.stderr[-3000:]
    rendered = last_json(done.stdout)
    assert all(job["invalid"] == "" for job in rendered.values())
    _assert_instances(rendered, values)


def test_pipeline_events_are_what_the_notifier_reads() -> None:
    from types import SimpleNamespace

    from infra.constructs.orchestration import PIPELINE_EVENT_DETAIL_TYPE, PIPELINE_EVENT_SOURCE
    from lambdas.notifier.messages import from_event

    notify = _load("notify")
    context = {
        "ti": SimpleNamespace(dag_id="training_pipeline", task_id="promote", run_id="r1"),
        "dag_run": SimpleNamespace(dag_id="training_pipeline", run_id="r1"),
    }
    detail = notify.event_detail(context, "failed", "gate failed (exit 1)")
    event = {"source": PIPELINE_EVENT_SOURCE, "detail-type": PIPELINE_EVENT_DETAIL_TYPE,
             "detail": detail}  # fmt: skip
    note = from_event("dev", event)
    assert note.kind == "pipeline" and note.failed
    assert "training_pipeline.promote" in note.subject
    assert "gate failed" in note.message

"""Notifier (SNS + webhook) and DAG sync (S3) handlers against moto."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from lambdas.dag_sync import handler as dag_handler
from lambdas.dag_sync.sync import local_dag_files, sync
from lambdas.notifier import handler as notifier
from lambdas.notifier.messages import SUBJECT_LIMIT, parse
from lambdas.notifier.settings import NotifierSettings

ALARM = {
    "AlarmName": "beacon-dev-Api5xx",
    "NewStateValue": "ALARM",
    "NewStateReason": "Threshold crossed: 1 datapoint [7.0] >= 5.0",
}
JOB_FAILED = {
    "source": "aws.sagemaker",
    "detail-type": "SageMaker Processing Job State Change",
    "detail": {
        "ProcessingJobName": "beacon-dev-embed-20250101",
        "ProcessingJobStatus": "Failed",
        "FailureReason": "AlgorithmError: exit code 1",
    },
}
DAG_FAILED = {
    "source": "beacon.pipelines",
    "detail-type": "Beacon Pipeline Event",
    "detail": {"env": "dev", "dag_id": "embed_refresh", "run_id": "r1", "state": "failed"},
}


def test_parse_alarm_job_and_dag_events() -> None:
    (alarm,) = parse("dev", {"Records": [{"Sns": {"Message": json.dumps(ALARM)}}]})
    assert alarm.kind == "alarm" and "ALARM: beacon-dev-Api5xx" in alarm.subject
    (job,) = parse("dev", JOB_FAILED)
    assert job.failed and "AlgorithmError" in job.message
    (dag,) = parse("dev", DAG_FAILED)
    assert dag.kind == "pipeline" and dag.failed and "embed_refresh" in dag.subject
    (other,) = parse("dev", {"detail-type": "x" * 300})
    assert other.kind == "unknown" and len(other.subject) <= SUBJECT_LIMIT


@mock_aws
def test_handler_publishes_to_sns_and_posts_webhook(
    monkeypatch: pytest.MonkeyPatch, context: object
) -> None:
    sns = boto3.client("sns")
    sqs = boto3.client("sqs")
    topic = sns.create_topic(Name="beacon-dev-notifications")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    boto3.client("secretsmanager").create_secret(
        Name="beacon-dev-webhook", SecretString=json.dumps({"url": "https://hooks.example/x"})
    )
    posted: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        notifier, "post_webhook", lambda url, note, timeout: posted.append((url, note))
    )
    monkeypatch.setattr(
        notifier,
        "get_settings",
        lambda: NotifierSettings(
            env="dev",
            topic_arn=topic,
            webhook_secret_id="beacon-dev-webhook",
            metrics_namespace="Beacon/dev",
        ),
    )
    notifier.webhook_url.cache_clear()
    assert notifier.handler(JOB_FAILED, context) == {"delivered": 1}
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    body = json.loads(messages[0]["Body"])
    assert "processing job Failed" in body["Subject"]
    assert posted and posted[0][0] == "https://hooks.example/x"


@mock_aws
def test_webhook_failure_does_not_lose_the_sns_message(
    monkeypatch: pytest.MonkeyPatch, context: object
) -> None:
    topic = boto3.client("sns").create_topic(Name="t")["TopicArn"]
    monkeypatch.setattr(
        notifier,
        "get_settings",
        lambda: NotifierSettings(env="dev", topic_arn=topic, webhook_secret_id="missing"),
    )
    notifier.webhook_url.cache_clear()
    assert notifier.handler(DAG_FAILED, context) == {"delivered": 1}


def test_post_webhook_refuses_plain_http() -> None:
    (note,) = parse("dev", DAG_FAILED)
    with pytest.raises(ValueError):
        notifier.post_webhook("http://insecure", note, 1)


def make_pipelines(root: Path) -> Path:
    (root / "dags" / "jobs").mkdir(parents=True)
    (root / "dags" / ".gitkeep").write_text("")
    (root / "dags" / "embed.py").write_text("# dag")
    (root / "dags" / "jobs" / "match.py").write_text("# dag")
    (root / "requirements.txt").write_text("apache-airflow-providers-amazon\n")
    return root


def test_local_dag_files_skip_placeholders(tmp_path: Path) -> None:
    files = local_dag_files(make_pipelines(tmp_path))
    assert sorted(files) == ["dags/embed.py", "dags/jobs/match.py"]


@mock_aws
def test_sync_uploads_deletes_stale_and_returns_requirements_version(tmp_path: Path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="pipelines")
    s3.put_bucket_versioning(Bucket="pipelines", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="pipelines", Key="dags/removed.py", Body=b"old")
    result = sync(s3, "pipelines", make_pipelines(tmp_path))
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="pipelines")["Contents"]}
    assert keys == {"dags/embed.py", "dags/jobs/match.py", "requirements.txt"}
    assert result["Deleted"] == "1" and result["DagCount"] == "2"
    head = s3.head_object(Bucket="pipelines", Key="requirements.txt")
    assert result["RequirementsVersion"] == head["VersionId"]


def test_sync_requires_a_requirements_file(tmp_path: Path) -> None:
    (tmp_path / "dags").mkdir()
    with pytest.raises(FileNotFoundError, match="requirements"):
        sync(object(), "b", tmp_path)


def test_repository_pipelines_folder_is_deployable() -> None:
    root = Path(__file__).resolve().parents[2] / "pipelines"
    text = (root / "requirements.txt").read_text()
    assert "constraints-3.0.6/constraints-3.11.txt" in text
    assert "apache-airflow-providers-amazon" in text


@mock_aws
def test_dag_sync_handler_answers_cloudformation(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    cfn_event: dict,
    context: object,
    sent: list[dict],
) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="pipelines")
    s3.put_bucket_versioning(Bucket="pipelines", VersioningConfiguration={"Status": "Enabled"})
    monkeypatch.setenv("BEACON_DAGSYNC_BUCKET", "pipelines")
    monkeypatch.setenv("BEACON_DAGSYNC_SOURCE_DIR", str(make_pipelines(tmp_path)))
    dag_handler.handler(cfn_event, context)
    assert sent[0]["status"] == "SUCCESS" and sent[0]["data"]["RequirementsVersion"] != "null"

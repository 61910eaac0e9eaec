"""AWS side of the DAG helpers, against moto: pipeline events reach EventBridge, and drift
summaries are read from S3 (the branch of monitoring_retraining)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace

import boto3
import pytest
from moto import mock_aws
from pipelines_support import DAGS

REGION = "us-east-1"
OPTIONS = {
    "region": REGION,
    "event_source": "beacon.pipelines",
    "event_detail_type": "Beacon Pipeline Event",
}


@pytest.fixture
def aws_helpers(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    """beacon_pipelines.notify and .storage in AWS mode, options as the CDK app sets them.

    Airflow is not installed in this environment: the options are answered here instead of
    by `airflow.configuration`, which is the only thing beacon_pipelines.settings asks.
    """
    monkeypatch.syspath_prepend(str(DAGS))
    for name in [m for m in sys.modules if m.startswith("beacon_pipelines")]:
        monkeypatch.delitem(sys.modules, name)
    from beacon_pipelines import notify, settings, storage

    monkeypatch.setattr(settings, "in_aws", lambda: True)
    monkeypatch.setattr(settings, "option", lambda name, fallback=None: OPTIONS.get(name))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield SimpleNamespace(notify=notify, storage=storage)
    for name in [m for m in sys.modules if m.startswith("beacon_pipelines")]:
        sys.modules.pop(name)


def _sent_events() -> list[dict]:
    """Every PutEvents entry that moto accepts from clients of boto3's default session."""
    sent: list[dict] = []

    def record(params: dict, **_: object) -> None:
        sent.extend(params["Entries"])

    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("provide-client-params.events.PutEvents", record)
    return sent


def test_a_task_failure_becomes_an_eventbridge_event(
    aws_helpers: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    sent = _sent_events()
    context = {
        "ti": SimpleNamespace(dag_id="training_pipeline", task_id="promote", run_id="r7"),
        "dag_run": SimpleNamespace(dag_id="training_pipeline", run_id="r7"),
        "exception": RuntimeError("gate failed (exit 1): beacon model promote"),
    }
    detail = aws_helpers.notify.send(context, "failed", "x")  # a plain send, then the callback
    aws_helpers.notify.on_task_failure(context)
    assert len(sent) == 2
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # EventBridge took both
    entry = sent[1]
    assert entry["Source"] == "beacon.pipelines"
    assert entry["DetailType"] == "Beacon Pipeline Event"
    event = json.loads(entry["Detail"])
    assert event == detail | {"message": "RuntimeError: gate failed (exit 1): beacon model promote"}
    assert (event["dag_id"], event["task_id"], event["state"]) == (
        "training_pipeline",
        "promote",
        "failed",
    )


def test_drift_summaries_are_read_from_s3(aws_helpers: SimpleNamespace) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="beacon-dev-data")
    key = "storage/reports/drift/readmission/batch-2026-11-24/summary.json"
    s3.put_object(Bucket="beacon-dev-data", Key=key, Body=b'{"retrain_recommended": true}')
    storage: ModuleType = aws_helpers.storage
    assert storage.read_json(f"s3://beacon-dev-data/{key}") == {"retrain_recommended": True}
    with pytest.raises(FileNotFoundError):
        storage.read_json("s3://beacon-dev-data/storage/reports/none/summary.json")

"""Lambda unit tests: fake AWS credentials for moto, Powertools tracing off, a fake context."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "Beacon/test",
    }
)


@dataclass
class FakeContext:
    """The LambdaContext attributes Powertools reads."""

    function_name: str = "beacon-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:111111111111:function:beacon-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def context() -> FakeContext:
    """A Lambda context for handler calls."""
    return FakeContext()


@pytest.fixture
def cfn_event() -> dict:
    """A CloudFormation custom-resource Create request."""
    return {
        "RequestType": "Create",
        "ResponseURL": "https://cloudformation-custom-resource-response.example/abc",
        "StackId": "arn:aws:cloudformation:us-east-1:111111111111:stack/Beacon-dev-Data/1",
        "RequestId": "req-1",
        "LogicalResourceId": "BootstrapResource",
        "ResourceType": "Custom::BeaconDatabaseBootstrap",
        "ResourceProperties": {},
    }


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Captures what handlers answer CloudFormation instead of calling S3."""
    calls: list[dict] = []

    def fake_send(event: dict, **kwargs: object) -> None:
        calls.append(dict(kwargs))

    from lambdas.common import cfn_response

    monkeypatch.setattr(cfn_response, "send", fake_send)
    return calls

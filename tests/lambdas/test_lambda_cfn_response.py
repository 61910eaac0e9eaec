"""The CloudFormation custom-resource response protocol."""

from __future__ import annotations

import json

import pytest

from lambdas.common import cfn_response

EVENT = {
    "ResponseURL": "https://example.com/response",
    "StackId": "stack",
    "RequestId": "req",
    "LogicalResourceId": "Res",
}


def test_body_has_every_field_and_short_reason() -> None:
    body = cfn_response.response_body(EVENT, status="FAILED", physical_id="p", reason="x" * 5000)
    assert body["Status"] == "FAILED" and body["PhysicalResourceId"] == "p"
    assert len(body["Reason"]) == cfn_response.MAX_REASON
    assert body["StackId"] == "stack" and body["Data"] == {}


def test_send_puts_json_to_the_presigned_url(monkeypatch: pytest.MonkeyPatch) -> None:
    requests = []

    class Response:
        def __enter__(self) -> Response:
            return self

        def __exit__(self, *args: object) -> None:
            return None

        def read(self) -> bytes:
            return b""

    def fake_urlopen(request: object, timeout: float) -> Response:
        requests.append(request)
        return Response()

    monkeypatch.setattr(cfn_response.urllib.request, "urlopen", fake_urlopen)
    cfn_response.send(EVENT, status="SUCCESS", physical_id="p", data={"A": "1"})
    (request,) = requests
    assert request.get_method() == "PUT"
    assert json.loads(request.data)["Data"] == {"A": "1"}


def test_send_refuses_plain_http() -> None:
    with pytest.raises(ValueError):
        cfn_response.send({**EVENT, "ResponseURL": "http://x"}, status="SUCCESS", physical_id="p")

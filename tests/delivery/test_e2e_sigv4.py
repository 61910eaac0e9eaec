"""The smoke suite's SigV4 signer and the client-role output it signs with."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from botocore.credentials import Credentials

from tests.e2e.sigv4 import SigV4
from tests.e2e.stack_outputs import api_outputs


def test_requests_are_signed_for_execute_api() -> None:
    seen: list[httpx.Request] = []

    def backend(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    auth = SigV4("eu-west-1", Credentials("AKIDEXAMPLE", "secret", "session-token"))
    with httpx.Client(
        base_url="https://abc.execute-api.eu-west-1.amazonaws.com/api/",
        transport=httpx.MockTransport(backend),
        headers={"x-api-key": "k"},
        auth=auth,
    ) as client:
        client.post("/v1/recommendations", json={"user_id": "u1"})
    (request,) = seen
    authorization = request.headers["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization
    assert "x-api-key" in authorization and "content-type" in authorization
    assert request.headers["x-amz-security-token"] == "session-token"
    assert request.url.path == "/api/v1/recommendations"


def test_client_role_output_is_passed_on_when_present(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    serving = {
        "ApiUrl": "https://x/api/",
        "ApiKeyId": "k",
        "ClientRoleArn": "arn:aws:iam::1:role/r",
    }
    outputs.write_text(json.dumps({"Beacon-prod-Serving": serving}))
    assert api_outputs(outputs, "prod")["client_role_arn"] == "arn:aws:iam::1:role/r"

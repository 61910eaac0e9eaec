"""The CD jobs' reader of `cdk deploy --outputs-file`: step outputs, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.stack_outputs import api_outputs, main

OUTPUTS = {
    "Beacon-staging-Network": {},
    "Beacon-staging-Serving": {
        "ApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/v1/",
        "ApiKeyId": "k3y1d",
    },
}


def test_writes_url_and_key_id_as_step_outputs(tmp_path: Path) -> None:
    outputs_file = tmp_path / "staging-outputs.json"
    outputs_file.write_text(json.dumps(OUTPUTS))
    github_output = tmp_path / "github_output"
    github_output.write_text("earlier=1\n")
    main(
        [
            "--env",
            "staging",
            "--outputs-file",
            str(outputs_file),
            "--github-output",
            str(github_output),
        ]
    )
    assert github_output.read_text().splitlines() == [
        "earlier=1",
        "url=https://abc123.execute-api.us-east-1.amazonaws.com/v1/",
        "api_key_id=k3y1d",
    ]


def test_missing_stack_or_output_is_named(tmp_path: Path) -> None:
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps(OUTPUTS))
    with pytest.raises(ValueError, match="no outputs of Beacon-prod-Serving"):
        api_outputs(outputs_file, "prod")
    outputs_file.write_text(json.dumps({"Beacon-staging-Serving": {"ApiUrl": "https://x/"}}))
    with pytest.raises(ValueError, match=r"lacks the outputs \['ApiKeyId'\]"):
        api_outputs(outputs_file, "staging")

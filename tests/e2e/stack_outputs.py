"""Reads the deployed API's address and key id from `cdk deploy --outputs-file` for the CD jobs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# Names in infra/stacks/serving_stack.py; tests/infra/test_infra_delivery.py checks they exist.
API_URL_OUTPUT = "ApiUrl"
API_KEY_OUTPUT = "ApiKeyId"
# The role of the first API client, when Beacon created it (the smoke suite signs as it).
CLIENT_ROLE_OUTPUT = "ClientRoleArn"


def serving_stack(env: str) -> str:
    """The stack that carries the API outputs."""
    return f"Beacon-{env}-Serving"


def api_outputs(outputs_file: Path, env: str) -> dict[str, str]:
    """{'url': ..., 'api_key_id': ...} of `env`, or a ValueError naming what is missing."""
    outputs = json.loads(outputs_file.read_text())
    stack = serving_stack(env)
    if stack not in outputs:
        raise ValueError(f"{outputs_file} has no outputs of {stack} (stacks: {sorted(outputs)})")
    values = outputs[stack]
    missing = [k for k in (API_URL_OUTPUT, API_KEY_OUTPUT) if not values.get(k)]
    if missing:
        raise ValueError(f"{stack} in {outputs_file} lacks the outputs {missing}")
    found = {"url": values[API_URL_OUTPUT], "api_key_id": values[API_KEY_OUTPUT]}
    if values.get(CLIENT_ROLE_OUTPUT):
        found["client_role_arn"] = values[CLIENT_ROLE_OUTPUT]
    return found


def main(argv: list[str] | None = None) -> None:
    """Append `url=` and `api_key_id=` lines to a GitHub step output file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", required=True, choices=("dev", "staging", "prod"))
    parser.add_argument("--outputs-file", type=Path, help="default: cdk.out/<env>-outputs.json")
    parser.add_argument("--github-output", type=Path, required=True)
    args = parser.parse_args(argv)
    outputs_file = args.outputs_file or Path("cdk.out") / f"{args.env}-outputs.json"
    values = api_outputs(outputs_file, args.env)
    with args.github_output.open("a", encoding="utf-8") as out:
        for key, value in values.items():
            out.write(f"{key}={value}\n")
    print(f"{args.env} API: {values['url']}")


if __name__ == "__main__":
    main()

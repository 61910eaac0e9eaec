"""checkov over synthesized templates: every finding Beacon accepts is listed here with a reason.

`make checkov ENV=prod` and tests/infra/test_infra_checkov.py run checkov with
`--framework cloudformation`; a failed check not matched by a skip below fails them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Skip:
    """One accepted finding: a check on resources whose logical id starts with `resource`."""

    check: str
    resource: str
    reason: str


_CDK_HANDLER = (
    "CDK's own singleton custom-resource handler (restrict the default security group, empty a "
    "bucket on delete): it runs once per deploy outside the VPC, with no data and no queue."
)
_REPLICA = (
    "The optional read replica (database.read_replica) inherits the primary's KMS storage "
    "encryption (CloudFormation rejects StorageEncrypted next to SourceDBInstanceIdentifier) "
    "and is a disposable copy: Multi-AZ belongs to the primary."
)
SKIPS: tuple[Skip, ...] = (
    Skip("CKV_AWS_16", "DatabaseReadReplica", _REPLICA),
    Skip("CKV_AWS_157", "DatabaseReadReplica", _REPLICA),
    Skip(
        "CKV_AWS_88",
        "NetworkVpcpublicSubnet1NatInstance",
        "Dev's NAT instance (config nat='instance', refused for prod): a NAT needs a public IP "
        "to reach the internet; it sits in a public subnet and admits only the VPC's CIDR.",
    ),
    *(
        Skip(check, prefix, _CDK_HANDLER)
        for check in ("CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117")
        for prefix in (
            "CustomVpcRestrictDefaultSGCustomResourceProvider",
            "CustomS3AutoDeleteObjectsCustomResourceProvider",
        )
    ),
    Skip(
        "CKV_AWS_111",
        "ProcessingPolicy",
        "SageMaker Processing in a VPC creates and deletes its own network interfaces: these EC2 "
        "actions support no resource-level scoping (cdk-nag IAM5 acknowledges the same).",
    ),
    Skip(
        "CKV_AWS_109",
        "ProcessingPolicy",
        "ec2:CreateNetworkInterfacePermission is what SageMaker needs to attach job ENIs in "
        "Beacon's subnets; it cannot be scoped to resources.",
    ),
    Skip(
        "CKV_AWS_111",
        "NetworkLambdaBaseline",
        "VPC Lambdas create and delete their ENIs and write X-Ray segments: actions with no "
        "resource-level permissions.",
    ),
    Skip(
        "CKV_AWS_173",
        "",
        "Lambda environments hold only names and ARNs (topic, secret ARN, bucket); secrets are "
        "read from Secrets Manager at run time, so there is nothing to encrypt with a CMK.",
    ),
    Skip(
        "CKV_AWS_18",
        "BucketsLogs",
        "This is the access-log bucket itself: logging it into itself would loop.",
    ),
    Skip(
        "CKV_AWS_120",
        "PublicApiDeploymentStage",
        "Responses are per-request predictions and retrievals; a stage cache would serve stale "
        "results after a model promotion (cdk-nag acknowledges the same).",
    ),
    Skip(
        "CKV_AWS_157",
        "DatabaseInstance",
        "dev and staging run a single-AZ database to keep their cost down; prod is Multi-AZ "
        "(tests/infra/test_infra_snapshots_cost.py asserts it).",
    ),
)


def skip_for(check: str, resource: str) -> Skip | None:
    """The skip that accepts `check` on `resource` (`Type.LogicalId`), if any."""
    logical_id = resource.rsplit(".", 1)[-1]
    for skip in SKIPS:
        if skip.check == check and logical_id.startswith(skip.resource):
            return skip
    return None


def scan(checkov: Path | str, *templates: Path) -> dict[str, list[dict[str, str]]]:
    """checkov's failed checks on `templates` (one run, any number of folders), split into
    `accepted` and `unexplained`.

    `passed` holds one row with checkov's count of passed checks (quiet mode lists none).
    """
    folders = [arg for folder in templates for arg in ("-d", str(folder))]
    result = subprocess.run(
        [
            str(checkov),
            *folders,
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--compact",
            "--quiet",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if not result.stdout.strip():
        raise RuntimeError(f"checkov produced no report: {result.stderr[-2000:]}")
    reports = _documents(result.stdout)
    split: dict[str, list[dict[str, str]]] = {"accepted": [], "unexplained": []}
    passed = 0
    for report in reports:
        results = report.get("results", {})
        passed += int(report.get("summary", {}).get("passed", 0))
        for failed in results.get("failed_checks", []):
            row = {
                "check": failed["check_id"],
                "name": failed.get("check_name", ""),
                "resource": failed["resource"],
                "file": Path(failed.get("file_path", "")).name,
            }
            key = "accepted" if skip_for(row["check"], row["resource"]) else "unexplained"
            split[key].append(row)
    split["passed"] = [{"count": str(passed)}]
    return split


def _documents(text: str) -> list[dict]:
    """checkov prints one JSON document per folder (or a list): all of them, flattened."""
    decoder = json.JSONDecoder()
    documents: list[dict] = []
    position = 0
    text = text.strip()
    while position < len(text):
        value, position = decoder.raw_decode(text, position)
        documents.extend(value if isinstance(value, list) else [value])
        while position < len(text) and text[position].isspace():
            position += 1
    return documents


def main(argv: list[str] | None = None) -> None:
    """CLI: print accepted and unexplained findings; exit 1 on any unexplained one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkov", default=".venv-checkov/bin/checkov")
    parser.add_argument("--templates", required=True, type=Path)
    args = parser.parse_args(argv)
    split = scan(args.checkov, args.templates)
    print(
        f"checkov {args.templates}: {split['passed'][0]['count']} passed, "
        f"{len(split['accepted'])} accepted with a reason, "
        f"{len(split['unexplained'])} unexplained"
    )
    for row in split["unexplained"]:
        print(f"  UNEXPLAINED {row['check']} {row['name']} {row['resource']} ({row['file']})")
    sys.exit(1 if split["unexplained"] else 0)


if __name__ == "__main__":
    main()

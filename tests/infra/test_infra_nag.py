"""cdk-nag: AwsSolutions, HIPAA Security and NIST 800-53 R5 pass everywhere, acks explained."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from infra_support import ENVIRONMENTS, BuiltEnvironment, build

from infra.nag import PACK_PREFIXES, acknowledge, nag_packs, recorded_instead

ACK_KEY = Validations.ACKNOWLEDGED_RULES_METADATA_KEY


def violations(app: Any) -> dict[str, list[str]]:
    """Pack name -> 'rule @ construct path' for every unacknowledged finding."""
    found: dict[str, list[str]] = {}
    for pack in nag_packs():
        report = pack.validate_scope(app)
        found[pack.name] = [
            f"{v.rule_name} @ {r.construct_path}"
            for v in report.violations
            for r in v.violating_resources
        ]
    return found


def acknowledgements(app: Any) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) of every cdk-nag acknowledgement in the tree.

    CDK itself acknowledges a few of its own CloudFormation-Validate findings; those are skipped.
    """
    acks = []
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == ACK_KEY and entry.data:
                for rule, reason in dict(entry.data).items():
                    rule_id = re.sub(r"^annotation::", "", rule, flags=re.IGNORECASE)
                    if rule_id.startswith(PACK_PREFIXES):
                        acks.append((construct.node.path, rule_id, str(reason)))
    return acks


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_no_unacknowledged_findings(name: str, built: dict[str, BuiltEnvironment]) -> None:
    found = violations(built[name].app)
    assert found == {pack: [] for pack in found}, json.dumps(found, indent=1)


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_acknowledgements_are_few_and_explained(
    name: str, built: dict[str, BuiltEnvironment], capsys: pytest.CaptureFixture[str]
) -> None:
    acks = acknowledgements(built[name].app)
    per_pack = Counter(next(p for p in PACK_PREFIXES if rule.startswith(p)) for _, rule, _ in acks)
    with capsys.disabled():
        print(f"\n[{name}] acknowledgements per pack: {dict(sorted(per_pack.items()))}")
    assert set(per_pack) <= set(PACK_PREFIXES)
    assert sum(per_pack.values()) <= 60
    for path, rule, reason in acks:
        assert len(reason) >= 40, f"{rule} on {path} has no real reason"
    # Wildcard permissions are only ever acknowledged one finding at a time, never wholesale.
    assert not any(rule.endswith("-IAM5") for _, rule, _ in acks)


def test_wildcard_actions_are_all_acknowledged(built: dict[str, BuiltEnvironment]) -> None:
    for name in ENVIRONMENTS:
        env = built[name]
        acked = {rule for _, rule, _ in acknowledgements(env.app)}
        for policy in env.resources("AWS::IAM::ManagedPolicy").values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                for action in actions if isinstance(actions, list) else [actions]:
                    if "*" in action:
                        assert f"AwsSolutions-IAM5[Action::{action}]" in acked, (name, action)
        assert not env.resources("AWS::IAM::Policy"), "no inline/default policies anywhere"


def test_packs_really_fire_on_a_bad_resource() -> None:
    app = App()
    stack = Stack(app, "Bad")
    s3.Bucket(stack, "Open", encryption=s3.BucketEncryption.UNENCRYPTED)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:*"], resources=["*"]))
    found = violations(app)
    assert any("AwsSolutions-S10" in f for f in found["AwsSolutions"])
    assert any("AwsSolutions-IAM5[Action::s3:*]" in f for f in found["AwsSolutions"])
    assert any("HIPAA.Security-S3BucketSSLRequestsOnly" in f for f in found["HIPAA.Security"])
    assert any("NIST.800.53.R5-IAMNoInlinePolicy" in f for f in found["NIST.800.53.R5"])


def test_an_acknowledgement_silences_only_its_own_rule() -> None:
    app = App()
    stack = Stack(app, "Acked")
    bucket = s3.Bucket(stack, "Bucket", enforce_ssl=True, versioned=True)
    acknowledge(
        bucket, ["AwsSolutions-S1"], "Test bucket: access logging is deliberately off here."
    )
    found = violations(app)
    assert not any("AwsSolutions-S1 " in f for f in found["AwsSolutions"])
    assert any("S3BucketLoggingEnabled" in f for f in found["HIPAA.Security"])


def test_acknowledge_rejects_vague_reasons() -> None:
    stack = Stack(App(), "S")
    with pytest.raises(ValueError, match="too short"):
        acknowledge(stack, ["AwsSolutions-S1"], "not needed")
    with pytest.raises(ValueError, match="not a rule"):
        acknowledge(stack, ["Serverless-LambdaDLQ"], "x" * 50)


def test_every_acknowledgement_silences_a_real_finding(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    for name in ENVIRONMENTS:
        with recorded_instead() as acks:
            raw = build(name, tmp_path_factory.mktemp(f"raw-{name}"))
        findings = {
            (path.split(" @ ")[1], path.split(" @ ")[0])
            for found in violations(raw.app).values()
            for path in found
        }
        stale = [
            (scope, rule)
            for scope, rule in acks
            if not any(path.startswith(scope) and found == rule for path, found in findings)
        ]
        assert stale == [], f"{name}: acknowledgements without a finding: {stale}"

"""cdk-nag packs used by Beacon and the one helper through which every finding is acknowledged."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aws_cdk import Acknowledgment, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks
from constructs import IConstruct

AWS_SOLUTIONS = "AwsSolutions"
HIPAA = "HIPAA.Security"
NIST = "NIST.800.53.R5"
PACK_PREFIXES = (AWS_SOLUTIONS, HIPAA, NIST)
# While set (see `recorded_instead`), acknowledgements are listed here and not applied.
_recorder: list[tuple[str, str]] | None = None


def nag_packs() -> list[NagPack]:
    """Fresh instances of the three packs every environment must pass."""
    return [AwsSolutionsChecks(), HIPAASecurityChecks(), NIST80053R5Checks()]


def acknowledge(scope: IConstruct, rule_ids: list[str] | tuple[str, ...], reason: str) -> None:
    """Acknowledge findings on `scope` (and everything below it) with one specific reason.

    Rule ids are full cdk-nag ids, e.g. `AwsSolutions-IAM5[Resource::*]` or
    `HIPAA.Security-S3BucketReplicationEnabled`.
    """
    if len(reason) < 40:
        raise ValueError(f"acknowledgement reason for {rule_ids} is too short to explain anything")
    for rule_id in rule_ids:
        if not rule_id.startswith(PACK_PREFIXES):
            raise ValueError(f"{rule_id!r} is not a rule of the packs Beacon runs")
    if _recorder is not None:
        _recorder.extend((scope.node.path, rule_id) for rule_id in rule_ids)
        return
    Validations.of(scope).acknowledge(*(Acknowledgment(id=i, reason=reason) for i in rule_ids))


@contextmanager
def recorded_instead() -> Iterator[list[tuple[str, str]]]:
    """Build an app whose acknowledgements are only recorded as (construct path, rule id).

    Tests use it to prove every acknowledgement silences a finding that really occurs.
    """
    global _recorder
    _recorder = []
    try:
        yield _recorder
    finally:
        _recorder = None


def all_packs(rule: str) -> list[str]:
    """The same rule name in HIPAA Security and NIST 800-53 R5 (they share rule names)."""
    return [f"{HIPAA}-{rule}", f"{NIST}-{rule}"]

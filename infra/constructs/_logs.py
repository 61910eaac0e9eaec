"""The one way Beacon creates a CloudWatch log group: KMS-encrypted, with the env's retention."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.retention import log_retention


def encrypted_log_group(
    scope: Construct,
    construct_id: str,
    *,
    config: EnvironmentConfig,
    key: kms.IKey,
    removal_policy: RemovalPolicy,
    name: str | None = None,
) -> logs.LogGroup:
    """A log group encrypted with `key` that expires after the environment's log retention."""
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        encryption_key=key,
        retention=log_retention(config.log_retention_days),
        removal_policy=removal_policy,
    )

"""Maps the environment's retention settings onto CDK enums (log retention, removal policies)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from infra.config import EnvironmentConfig

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
}


def log_retention(days: int) -> logs.RetentionDays:
    """The CloudWatch Logs retention for `days` (must be one CloudWatch offers)."""
    try:
        return _RETENTION[days]
    except KeyError:
        raise ValueError(f"log retention {days} days is not one of {sorted(_RETENTION)}") from None


def stateful_removal(config: EnvironmentConfig) -> RemovalPolicy:
    """Keys, buckets, secrets and logs: destroyed with dev, retained everywhere else."""
    return RemovalPolicy.DESTROY if config.database.removal == "destroy" else RemovalPolicy.RETAIN


def database_removal(config: EnvironmentConfig) -> RemovalPolicy:
    """The database instance: destroy (dev), final snapshot, or retain."""
    return {
        "destroy": RemovalPolicy.DESTROY,
        "snapshot": RemovalPolicy.SNAPSHOT,
        "retain": RemovalPolicy.RETAIN,
    }[config.database.removal]

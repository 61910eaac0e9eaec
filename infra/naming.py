"""Physical names and ARNs that several stacks must agree on without cross-stack references."""

from __future__ import annotations

from aws_cdk import Aws

from infra.config import EnvironmentConfig
from infra.nag import AWS_SOLUTIONS

BUCKET_PURPOSES = ("data", "models", "reports", "pipelines", "logs", "alb-logs")


def bucket_name(config: EnvironmentConfig, purpose: str) -> str:
    """Globally unique, predictable bucket name: beacon-<env>-<account>-<region>-<purpose>."""
    if purpose not in BUCKET_PURPOSES:
        raise ValueError(f"unknown bucket purpose {purpose!r}")
    return f"{config.prefix}-{config.account}-{config.region}-{purpose}"


def bucket_arn(name: str) -> str:
    """ARN of a bucket."""
    return f"arn:{Aws.PARTITION}:s3:::{name}"


def objects_arn(name: str, prefix: str = "") -> str:
    """ARN of every object (under `prefix`) in a bucket."""
    return f"arn:{Aws.PARTITION}:s3:::{name}/{prefix}*"


def objects_finding(name: str, prefix: str = "") -> str:
    """The AwsSolutions-IAM5 finding id that `objects_arn(name, prefix)` raises."""
    return f"{AWS_SOLUTIONS}-IAM5[Resource::arn:<AWS::Partition>:s3:::{name}/{prefix}*]"


def parameter_prefix(config: EnvironmentConfig) -> str:
    """SSM parameter path under which the environment publishes names for DAGs and tools."""
    return f"/beacon/{config.name}"


def mwaa_environment_name(config: EnvironmentConfig) -> str:
    """Name of the MWAA environment."""
    return f"{config.prefix}-airflow"

"""One frozen, typed configuration per deployment environment (dev, staging, prod)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Literal

EnvName = Literal["dev", "staging", "prod"]
NatStrategy = Literal["single", "per_az"]
ServingMode = Literal["fargate", "lambda"]
DataRemoval = Literal["destroy", "snapshot", "retain"]

# Synth must work with no credentials: these stand in until context or CDK_DEFAULT_* say otherwise.
PLACEHOLDER_ACCOUNT = "111111111111"
DEFAULT_REGION = "us-east-1"
# Named so offline templates carry real AZs instead of CDK's dummy1a/dummy1b.
DEFAULT_AZS: dict[str, tuple[str, str]] = {
    "us-east-1": ("us-east-1a", "us-east-1b"),
    "us-east-2": ("us-east-2a", "us-east-2b"),
    "us-west-2": ("us-west-2a", "us-west-2b"),
    "eu-west-1": ("eu-west-1a", "eu-west-1b"),
    "eu-central-1": ("eu-central-1a", "eu-central-1b"),
}


@dataclass(frozen=True)
class DatabaseConfig:
    """RDS PostgreSQL sizing and data-protection settings."""

    instance_class: str  # e.g. "t4g.micro" (the `db.` prefix is added by RDS)
    allocated_storage_gib: int
    max_allocated_storage_gib: int
    multi_az: bool
    backup_retention_days: int
    deletion_protection: bool
    removal: DataRemoval
    port: int = 5433  # not 5432: cheap defence against default-port scans (AwsSolutions-RDS11)
    name: str = "beacon"
    app_username: str = "beacon_app"
    secret_rotation_days: int = 30


@dataclass(frozen=True)
class ServingConfig:
    """How the API runs: Fargate behind an ALB, or the same app on Lambda."""

    mode: ServingMode
    cpu: int = 1024
    memory_mib: int = 2048
    desired_tasks: int = 1
    min_tasks: int = 1
    max_tasks: int = 2
    cpu_target_percent: int = 60
    requests_per_target: int = 200
    lambda_memory_mib: int = 3008
    lambda_reserved_concurrency: int = 5
    throttle_rate_limit: int = 50
    throttle_burst_limit: int = 100
    quota_requests_per_day: int = 100_000
    # Without a certificate the ALB listens on HTTP inside the VPC only (see docs).
    certificate_arn: str | None = None


@dataclass(frozen=True)
class OrchestrationConfig:
    """MWAA sizing."""

    environment_class: str = "mw1.micro"
    min_workers: int = 1
    max_workers: int = 1
    schedulers: int = 1
    webserver_public: bool = False


@dataclass(frozen=True)
class AlarmThresholds:
    """Alarm thresholds; evaluated over 5-minute periods."""

    api_5xx_per_5min: int = 5
    api_p99_latency_ms: int = 2500
    ecs_cpu_percent: int = 85
    ecs_memory_percent: int = 85
    rds_cpu_percent: int = 80
    rds_free_storage_gib: int = 2
    rds_max_connections: int = 80
    processing_failures: int = 1
    dag_failures: int = 1


# GitHub environment whose jobs may deploy each Beacon environment: prod's approval gate is the
# protected `production` environment of the repository (see docs/delivery.md).
GITHUB_ENVIRONMENTS: dict[str, str] = {"dev": "dev", "staging": "staging", "prod": "production"}
_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")


@dataclass(frozen=True)
class DeliveryConfig:
    """Who may deploy from GitHub Actions: one repository's jobs in one GitHub environment."""

    github_repository: str  # owner/name
    github_environment: str
    # An account holds one GitHub OIDC provider: reuse it (by ARN) when another stack made it.
    oidc_provider_arn: str | None = None

    def __post_init__(self) -> None:
        if not _GITHUB_REPOSITORY.match(self.github_repository):
            raise ValueError(
                f"github_repository must be owner/name, got {self.github_repository!r}"
            )


@dataclass(frozen=True)
class EnvironmentConfig:
    """Everything that differs between dev, staging and prod."""

    name: EnvName
    account: str
    region: str
    availability_zones: tuple[str, str]
    vpc_cidr: str
    nat: NatStrategy
    database: DatabaseConfig
    serving: ServingConfig
    orchestration: OrchestrationConfig
    alarms: AlarmThresholds
    monthly_budget_usd: int
    log_retention_days: int
    data_retention_days: int
    processing_instance_type: str = "ml.m5.large"
    alert_emails: tuple[str, ...] = ()
    # Name of a Secrets Manager secret (created out of band) holding a webhook URL, or None.
    alert_webhook_secret_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # None: no GitHub deploy role (the Beacon-<env>-Delivery stack is left out).
    delivery: DeliveryConfig | None = None

    @property
    def prefix(self) -> str:
        """Name prefix for physical names: `beacon-<env>`."""
        return f"beacon-{self.name}"

    @property
    def is_production(self) -> bool:
        """True for prod: stateful resources are retained and protected."""
        return self.name == "prod"

    @property
    def metrics_namespace(self) -> str:
        """CloudWatch namespace of the Embedded Metric Format metrics the jobs publish."""
        return f"Beacon/{self.name}"

    def with_target(self, account: str, region: str) -> EnvironmentConfig:
        """The same configuration deployed to another account and region."""
        azs = DEFAULT_AZS.get(region, (f"{region}a", f"{region}b"))
        return dataclasses.replace(self, account=account, region=region, availability_zones=azs)

    def with_delivery(
        self, github_repository: str, oidc_provider_arn: str | None = None
    ) -> EnvironmentConfig:
        """The same configuration with a deploy role for `github_repository` (owner/name)."""
        delivery = DeliveryConfig(
            github_repository=github_repository,
            github_environment=GITHUB_ENVIRONMENTS[self.name],
            oidc_provider_arn=oidc_provider_arn or None,
        )
        return dataclasses.replace(self, delivery=delivery)


_DEV = EnvironmentConfig(
    name="dev",
    account=PLACEHOLDER_ACCOUNT,
    region=DEFAULT_REGION,
    availability_zones=DEFAULT_AZS[DEFAULT_REGION],
    vpc_cidr="10.10.0.0/16",
    nat="single",
    database=DatabaseConfig(
        instance_class="t4g.micro",
        allocated_storage_gib=20,
        max_allocated_storage_gib=50,
        multi_az=False,
        backup_retention_days=1,
        deletion_protection=False,
        removal="destroy",
    ),
    serving=ServingConfig(mode="lambda", lambda_reserved_concurrency=5),
    orchestration=OrchestrationConfig(webserver_public=True),
    alarms=AlarmThresholds(api_5xx_per_5min=20, api_p99_latency_ms=5000),
    monthly_budget_usd=450,
    log_retention_days=30,
    data_retention_days=30,
    processing_instance_type="ml.t3.large",
    tags={"cost-center": "beacon-dev"},
)

_STAGING = EnvironmentConfig(
    name="staging",
    account=PLACEHOLDER_ACCOUNT,
    region=DEFAULT_REGION,
    availability_zones=DEFAULT_AZS[DEFAULT_REGION],
    vpc_cidr="10.20.0.0/16",
    nat="single",
    database=DatabaseConfig(
        instance_class="t4g.small",
        allocated_storage_gib=50,
        max_allocated_storage_gib=100,
        multi_az=False,
        backup_retention_days=7,
        deletion_protection=False,
        removal="snapshot",
    ),
    serving=ServingConfig(
        mode="fargate", cpu=1024, memory_mib=2048, desired_tasks=1, min_tasks=1, max_tasks=3
    ),
    orchestration=OrchestrationConfig(min_workers=1, max_workers=2),
    alarms=AlarmThresholds(),
    monthly_budget_usd=650,
    log_retention_days=90,
    data_retention_days=90,
    tags={"cost-center": "beacon-staging"},
)

_PROD = EnvironmentConfig(
    name="prod",
    account=PLACEHOLDER_ACCOUNT,
    region=DEFAULT_REGION,
    availability_zones=DEFAULT_AZS[DEFAULT_REGION],
    vpc_cidr="10.30.0.0/16",
    nat="per_az",
    database=DatabaseConfig(
        instance_class="m7g.large",
        allocated_storage_gib=100,
        max_allocated_storage_gib=500,
        multi_az=True,
        backup_retention_days=30,
        deletion_protection=True,
        removal="snapshot",
    ),
    serving=ServingConfig(
        mode="fargate",
        cpu=2048,
        memory_mib=4096,
        desired_tasks=2,
        min_tasks=2,
        max_tasks=8,
        throttle_rate_limit=200,
        throttle_burst_limit=400,
        quota_requests_per_day=1_000_000,
    ),
    orchestration=OrchestrationConfig(environment_class="mw1.small", min_workers=1, max_workers=4),
    alarms=AlarmThresholds(api_5xx_per_5min=5, api_p99_latency_ms=2000),
    monthly_budget_usd=1600,
    log_retention_days=365,
    data_retention_days=365,
    tags={"cost-center": "beacon-prod"},
)

ENVIRONMENTS: dict[str, EnvironmentConfig] = {c.name: c for c in (_DEV, _STAGING, _PROD)}


def get_config(
    name: str,
    account: str | None = None,
    region: str | None = None,
    *,
    github_repository: str | None = None,
    github_oidc_provider_arn: str | None = None,
) -> EnvironmentConfig:
    """The named environment, moved to `account`/`region` when they are given.

    With `github_repository` (owner/name) it also gets the GitHub Actions deploy role.
    """
    try:
        config = ENVIRONMENTS[name]
    except KeyError:
        known = ", ".join(sorted(ENVIRONMENTS))
        raise ValueError(f"unknown environment {name!r}; expected one of: {known}") from None
    if account or region:
        config = config.with_target(account or config.account, region or config.region)
    if github_repository:
        config = config.with_delivery(github_repository, github_oidc_provider_arn)
    return config

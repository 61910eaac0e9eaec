"""One frozen, typed configuration per deployment environment (dev, staging, prod)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.service_rules import (
    ConfigError,
    check_fargate,
    check_lambda_memory,
    check_maintenance_work_mem,
    check_mwaa,
    check_rds_class,
    check_sagemaker_instance,
)

EnvName = Literal["dev", "staging", "prod"]
# "instance": one NAT instance (t4g.nano) instead of a NAT gateway: a tenth of the price,
# no per-GB processing fee, no high availability (dev only).
NatStrategy = Literal["single", "per_az", "instance"]
VectorStorage = Literal["vector", "halfvec"]
ServingMode = Literal["fargate", "lambda"]
DataRemoval = Literal["destroy", "snapshot", "retain"]

# Synth must work with no credentials: these stand in until context or CDK_DEFAULT_* say otherwise.
PLACEHOLDER_ACCOUNT = "111111111111"
DEFAULT_REGION = "us-east-1"
# Named so offline templates carry real AZs instead of CDK's dummy1a/dummy1b.
# Requests/s one uvicorn worker sustains with one CPU under the mixed load of
# bench/bench_capacity.py (by-id /recommend_jobs, single /predict/readmission,
# /v1/recommendations): 2 workers on this 2-core machine did 54-61 req/s (27-30 per worker),
# 1 worker 20-57 req/s (it borrows the second core; the low run was under heavy contention).
# How it was measured, and why 30: docs/capacity.md.
MEASURED_WORKER_RPS = 30.0
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
    # Memory of one CREATE INDEX ... USING hnsw (parameter group): a build that fits in it runs
    # several times faster than one that spills; at most half the instance memory.
    maintenance_work_mem_mb: int = 256
    # How the services store embeddings: "vector" (float32) or "halfvec" (float16, half the
    # table; the index is 51 % with HNSW m = 12, 57 % with m = 16: docs/capacity.md). Documented
    # for capacity planning; the services create `vector` columns today and do not read it yet.
    vector_storage: VectorStorage = "vector"
    # A read replica for the read path (the API's similarity queries). The services do not
    # split reads from writes yet, so the replica only serves clients pointed at it by hand.
    read_replica: bool = False
    # RDS Proxy in front of the instance for connection fan-out (many tasks x workers x pool).
    # The services connect to the instance endpoint today; the proxy endpoint is an output.
    proxy: bool = False
    # Idle state (`make idle`): the instance is stopped out of hours; only storage is billed.
    stopped: bool = False

    def __post_init__(self) -> None:
        check_rds_class(self.instance_class)
        check_maintenance_work_mem(self.instance_class, self.maintenance_work_mem_mb)
        if self.vector_storage not in ("vector", "halfvec"):
            raise ConfigError(
                f"database.vector_storage={self.vector_storage!r} must be 'vector' or 'halfvec'"
            )
        if not 20 <= self.allocated_storage_gib <= 65_536:
            raise ConfigError(
                f"database.allocated_storage_gib={self.allocated_storage_gib} must be 20..65536 "
                "(gp3)"
            )
        if self.read_replica and self.stopped:
            raise ConfigError("database.stopped: RDS cannot stop an instance with a read replica")
        if self.max_allocated_storage_gib < self.allocated_storage_gib:
            raise ConfigError(
                f"database.max_allocated_storage_gib={self.max_allocated_storage_gib} is below "
                f"allocated_storage_gib={self.allocated_storage_gib}"
            )


_CLIENT_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")
_CERTIFICATE_ARN = re.compile(
    r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$"
)
_DOMAIN_NAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# A route of the API, as the blue/green check asks it on the test listener.
_CHECK_PATH = re.compile(r"^/[A-Za-z0-9._~/-]{0,200}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class ApiClient:
    """One caller of the public API: its own IAM principal and its own metering API key."""

    name: str
    # None: Beacon creates the role `beacon-<env>-client-<name>` for the client to assume.
    principal_arn: str | None = None
    # This client's usage plan; None takes the environment's default (serving.throttle_*,
    # serving.quota_requests_per_day).
    throttle_rate_limit: int | None = None
    throttle_burst_limit: int | None = None
    quota_requests_per_day: int | None = None

    def __post_init__(self) -> None:
        if not _CLIENT_NAME.match(self.name):
            raise ConfigError(
                f"serving.clients: name {self.name!r} must match {_CLIENT_NAME.pattern}"
            )
        for label in ("throttle_rate_limit", "throttle_burst_limit", "quota_requests_per_day"):
            value = getattr(self, label)
            if value is not None and (isinstance(value, bool) or value < 1):
                raise ConfigError(
                    f"serving.clients[{self.name}].{label}={value!r} must be a positive integer"
                )
        if self.principal_arn is not None and not _PRINCIPAL_ARN.match(self.principal_arn):
            raise ConfigError(
                f"serving.clients[{self.name}].principal_arn={self.principal_arn!r} is not an IAM "
                "role or user ARN"
            )


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
    # uvicorn workers per task (BEACON_WORKERS); None: one per vCPU of the task.
    workers_per_task: int | None = None
    # Share of the measured per-worker capacity a task is scaled at (the rest absorbs bursts
    # while new tasks start, ~1-2 minutes on Fargate).
    scaling_headroom: float = 0.6
    lambda_memory_mib: int = 3008
    lambda_reserved_concurrency: int = 5
    throttle_rate_limit: int = 50
    throttle_burst_limit: int = 100
    quota_requests_per_day: int = 100_000
    # ACM certificate of the internal ALB's HTTPS listener and the name it is issued for, which
    # API Gateway calls and verifies; required with Fargate in staging and prod (operator values).
    certificate_arn: str | None = None
    backend_domain_name: str | None = None
    clients: tuple[ApiClient, ...] = (ApiClient("default"),)
    # WAF rate-based rule: requests one client IP may send in any 5 minutes.
    waf_requests_per_ip_5min: int = 3000
    # ECS native blue/green (Fargate): a green task set behind a test listener, traffic switched
    # after it is healthy, rolled back on the deployment alarms during the bake time.
    blue_green: bool = False
    blue_green_bake_minutes: int = 10
    # The lifecycle hook that tests the green tasks through the test listener before production
    # traffic moves (lambdas/bluegreen_check): routes that must answer 200 with JSON, and how
    # many calls (30 s apart) warming tasks get before ECS rolls the deployment back.
    blue_green_check_paths: tuple[str, ...] = ("/ready", "/health")
    blue_green_check_attempts: int = 10

    def __post_init__(self) -> None:
        if self.mode == "fargate":
            check_fargate(self.cpu, self.memory_mib)
        check_lambda_memory(self.lambda_memory_mib)
        # min 0 is the idle state (`make idle`): the service keeps its ALB, runs no task.
        if not (0 <= self.min_tasks <= self.desired_tasks <= self.max_tasks and self.max_tasks):
            raise ConfigError(
                f"serving: need 0 <= min_tasks ({self.min_tasks}) <= desired_tasks "
                f"({self.desired_tasks}) <= max_tasks ({self.max_tasks}), max_tasks >= 1"
            )
        if self.max_tasks > 100:
            raise ConfigError(f"serving.max_tasks={self.max_tasks} is above 100 (ask first)")
        if self.workers_per_task is not None and not 1 <= self.workers_per_task <= 2 * max(
            1, self.vcpus
        ):
            raise ConfigError(
                f"serving.workers_per_task={self.workers_per_task} must be 1..{2 * self.vcpus} "
                f"for a {self.cpu / 1024:g}-vCPU task (each worker loads the encoder and models)"
            )
        if not 0.2 <= self.scaling_headroom <= 0.9:
            raise ConfigError(f"serving.scaling_headroom={self.scaling_headroom} must be 0.2..0.9")
        if self.throttle_rate_limit < 1 or self.throttle_burst_limit < self.throttle_rate_limit:
            raise ConfigError(
                f"serving: need 1 <= throttle_rate_limit ({self.throttle_rate_limit}) <= "
                f"throttle_burst_limit ({self.throttle_burst_limit})"
            )
        if self.quota_requests_per_day < 1:
            raise ConfigError(
                f"serving.quota_requests_per_day={self.quota_requests_per_day} must be positive"
            )
        names = [c.name for c in self.clients]
        if not names or len(set(names)) != len(names):
            raise ConfigError(f"serving.clients must name at least one client, each once: {names}")
        if not 100 <= self.waf_requests_per_ip_5min <= 2_000_000_000:
            raise ConfigError("serving.waf_requests_per_ip_5min must be 100..2,000,000,000 (WAF)")
        paths = self.blue_green_check_paths
        if not 1 <= len(paths) <= 5 or not all(
            isinstance(p, str) and _CHECK_PATH.match(p) for p in paths
        ):
            raise ConfigError(
                f"serving.blue_green_check_paths={paths!r}: 1 to 5 routes, each matching "
                f"{_CHECK_PATH.pattern} (a path, no query)"
            )
        attempts = self.blue_green_check_attempts
        if isinstance(attempts, bool) or not 1 <= attempts <= 40:
            raise ConfigError(
                f"serving.blue_green_check_attempts={attempts!r} must be 1..40 (30 s apart)"
            )
        if self.certificate_arn is not None and not _CERTIFICATE_ARN.match(self.certificate_arn):
            raise ConfigError(
                f"serving.certificate_arn={self.certificate_arn!r} is not an ACM certificate ARN"
            )
        if self.backend_domain_name is not None and not _DOMAIN_NAME.match(
            self.backend_domain_name
        ):
            raise ConfigError(
                f"serving.backend_domain_name={self.backend_domain_name!r} is not a DNS name"
            )

    @property
    def vcpus(self) -> int:
        """Whole vCPUs of one task (a 0.25/0.5-vCPU task counts as one)."""
        return max(1, self.cpu // 1024)

    @property
    def workers(self) -> int:
        """uvicorn workers per task: one per vCPU unless configured."""
        return self.workers_per_task or self.vcpus

    @property
    def requests_per_target(self) -> int:
        """ALB requests per task per minute the service scales at, from the measured capacity."""
        return int(MEASURED_WORKER_RPS * 60 * self.workers * self.scaling_headroom)

    def client_limits(self, client: ApiClient) -> tuple[int, int, int]:
        """(rate, burst, daily quota) of one client's usage plan."""
        return (
            client.throttle_rate_limit or self.throttle_rate_limit,
            client.throttle_burst_limit or self.throttle_burst_limit,
            client.quota_requests_per_day or self.quota_requests_per_day,
        )


@dataclass(frozen=True)
class OrchestrationConfig:
    """MWAA sizing."""

    environment_class: str = "mw1.micro"
    min_workers: int = 1
    max_workers: int = 1
    schedulers: int = 1
    webserver_public: bool = False
    # False leaves MWAA out (the idle state, `make idle`): DAGs are not scheduled, Processing
    # jobs can still be started by hand (docs/cost.md).
    enabled: bool = True

    def __post_init__(self) -> None:
        check_mwaa(self.environment_class, self.schedulers, self.min_workers, self.max_workers)


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
    alb_5xx_per_5min: int = 5
    rds_freeable_memory_mib: int = 256
    rds_latency_ms: int = 50
    dlq_messages: int = 1
    notifier_errors: int = 1
    # An alarm fires when this many of the last `evaluation_periods` 5-minute periods breach.
    datapoints_to_alarm: int = 2
    evaluation_periods: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            raise ConfigError(
                f"alarms.datapoints_to_alarm={self.datapoints_to_alarm} must be 1.."
                f"evaluation_periods ({self.evaluation_periods})"
            )


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
    # SageMaker Processing instances of one refresh job and of one HPO job (InstanceCount).
    refresh_instance_count: int = 1
    hpo_instance_count: int = 1
    # Local shard processes per refresh instance (`embed refresh --workers`); None: one per
    # vCPU of the instance. Equal to one process on 2 vCPUs (docs/capacity.md); on larger
    # instances it keeps the refresh's Python-bound work from capping one process.
    refresh_workers_per_instance: int | None = None
    # Interface endpoints for ECR, Logs, Secrets Manager and SageMaker; without them that
    # traffic leaves through NAT (dev: ~$73/month of endpoint hours for little traffic).
    interface_endpoints: bool = True
    # An optional SageMaker Studio domain (IAM auth, VPC only) for exploration.
    studio_domain: bool = False
    alert_emails: tuple[str, ...] = ()
    # Name of a Secrets Manager secret (created out of band) holding a webhook URL, or None.
    alert_webhook_secret_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # None: no GitHub deploy role (the Beacon-<env>-Delivery stack is left out).
    delivery: DeliveryConfig | None = None

    def __post_init__(self) -> None:
        check_sagemaker_instance(self.processing_instance_type)
        for label in ("refresh_instance_count", "hpo_instance_count"):
            value = getattr(self, label)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 20:
                raise ConfigError(f"{self.name}: {label}={value!r} must be an integer 1..20")
        workers = self.refresh_workers_per_instance
        if workers is not None and (
            isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 64
        ):
            raise ConfigError(
                f"{self.name}: refresh_workers_per_instance={workers!r} must be None (one per "
                "vCPU) or an integer 1..64"
            )
        if self.nat == "instance" and self.is_production:
            raise ConfigError("prod: nat='instance' has no high availability; use 'per_az'")
        if self.nat not in ("single", "per_az", "instance"):
            raise ConfigError(
                f"{self.name}: nat={self.nat!r} must be 'single', 'per_az' or 'instance'"
            )
        for email in self.alert_emails:
            if not _EMAIL.match(email):
                raise ConfigError(f"{self.name}: alert_emails has {email!r}, not an email address")

    @property
    def requires_operator_values(self) -> bool:
        """Staging and prod serve real callers: TLS and a human subscriber are mandatory."""
        return self.name in ("staging", "prod")

    def check_deployable(self) -> None:
        """Fail with every missing or inconsistent operator value, named (see docs)."""
        problems = []
        serving = self.serving
        fargate = serving.mode == "fargate"
        if fargate and self.requires_operator_values and not serving.certificate_arn:
            problems.append(
                "certificate_arn: an ACM certificate for the internal ALB's HTTPS listener"
            )
        if serving.certificate_arn and not serving.backend_domain_name:
            problems.append("backend_domain_name: the DNS name the certificate is issued for")
        if serving.certificate_arn:
            match = _CERTIFICATE_ARN.match(serving.certificate_arn)
            if match and match["region"] != self.region:
                problems.append(
                    f"certificate_arn is in {match['region']}, the ALB in {self.region}: ACM "
                    "certificates are regional"
                )
        if self.requires_operator_values and not (
            self.alert_emails or self.alert_webhook_secret_name
        ):
            problems.append(
                "alert_emails or alert_webhook_secret_name: at least one person must get alerts"
            )
        if problems:
            raise ConfigError(
                f"environment {self.name} is not deployable; provide operator values "
                "(docs/infrastructure.md#first-deploy):\n  - " + "\n  - ".join(problems)
            )

    def with_operator_values(self, values: Mapping[str, Any]) -> EnvironmentConfig:
        """The same configuration with the operator's values (certificate, subscribers, clients)."""
        known = set(OPERATOR_KEYS)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"unknown operator values {unknown}; expected some of {sorted(known)}"
            )
        serving_changes: dict[str, Any] = {
            k: values[k] for k in ("certificate_arn", "backend_domain_name") if values.get(k)
        }
        if values.get("api_clients"):
            try:
                serving_changes["clients"] = tuple(
                    ApiClient(**client) if isinstance(client, Mapping) else ApiClient(str(client))
                    for client in values["api_clients"]
                )
            except TypeError as exc:  # an unknown or missing key in one client's entry
                raise ConfigError(f"api_clients: {exc}") from None
        changes: dict[str, Any] = {"serving": dataclasses.replace(self.serving, **serving_changes)}
        emails = values.get("alert_emails")
        if emails:
            changes["alert_emails"] = tuple(
                e.strip() for e in (emails.split(",") if isinstance(emails, str) else emails)
            )
        if values.get("alert_webhook_secret_name"):
            changes["alert_webhook_secret_name"] = values["alert_webhook_secret_name"]
        return dataclasses.replace(self, **changes)

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

    @property
    def idle(self) -> bool:
        """True in the idle state (`make idle`): no MWAA, no API task, database stopped."""
        return not self.orchestration.enabled

    def with_idle(self) -> EnvironmentConfig:
        """The idle state of this environment: every running cost off, data and Processing kept.

        MWAA is left out (its metadata is not kept: DAG history restarts on `make wake`), the
        API runs no task, the database is stopped; buckets, keys, the database storage, the
        MLflow app and the Processing role stay, so jobs can still run by hand.
        """
        if self.is_production:
            raise ConfigError("prod has no idle state: it serves real callers")
        serving = dataclasses.replace(self.serving, min_tasks=0, desired_tasks=0)
        return dataclasses.replace(
            self,
            orchestration=dataclasses.replace(self.orchestration, enabled=False),
            serving=serving,
            database=dataclasses.replace(self.database, stopped=True),
        )

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


# What an operator supplies per environment (CDK context or an operator-values JSON file).
OPERATOR_KEYS = (
    "certificate_arn",
    "backend_domain_name",
    "alert_emails",
    "alert_webhook_secret_name",
    "api_clients",
)

_DEV = EnvironmentConfig(
    name="dev",
    account=PLACEHOLDER_ACCOUNT,
    region=DEFAULT_REGION,
    availability_zones=DEFAULT_AZS[DEFAULT_REGION],
    vpc_cidr="10.10.0.0/16",
    # Dev's bill is mostly fixed hours: a NAT instance and no interface endpoints save ~$100 of
    # it (docs/cost.md); staging and prod keep the managed, highly available pieces.
    nat="instance",
    interface_endpoints=False,
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
    orchestration=OrchestrationConfig(),
    alarms=AlarmThresholds(api_5xx_per_5min=20, api_p99_latency_ms=5000),
    monthly_budget_usd=450,
    log_retention_days=30,
    data_retention_days=30,
    processing_instance_type="ml.t3.large",
    refresh_instance_count=1,
    hpo_instance_count=1,
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
    # mw1.micro: one combined scheduler/worker, so one worker at most.
    orchestration=OrchestrationConfig(min_workers=1, max_workers=1),
    alarms=AlarmThresholds(),
    monthly_budget_usd=650,
    log_retention_days=90,
    data_retention_days=90,
    refresh_instance_count=2,
    hpo_instance_count=1,
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
        # An HNSW build over millions of postings wants the graph in memory (8 GiB instance).
        maintenance_work_mem_mb=2048,
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
        blue_green=True,
    ),
    orchestration=OrchestrationConfig(
        environment_class="mw1.small", schedulers=2, min_workers=1, max_workers=4
    ),
    alarms=AlarmThresholds(api_5xx_per_5min=5, api_p99_latency_ms=2000),
    monthly_budget_usd=1600,
    log_retention_days=365,
    data_retention_days=365,
    refresh_instance_count=4,
    hpo_instance_count=2,
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
    operator_values: Mapping[str, Any] | None = None,
) -> EnvironmentConfig:
    """The named environment, moved to `account`/`region` when they are given.

    With `github_repository` (owner/name) it also gets the GitHub Actions deploy role;
    `operator_values` adds what only an operator knows (certificate, alert subscribers, clients).
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
    if operator_values:
        config = config.with_operator_values(operator_values)
    return config

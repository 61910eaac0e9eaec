"""The AWS service rules an environment config must satisfy, checked before anything synthesizes.

The tables follow AWS's documentation (MWAA environment classes, Fargate task sizes, RDS for
PostgreSQL instance classes); tests/infra/test_infra_config_rules.py compares them with the
values botocore's service models and cfn-lint's RDS tables document, so a drift shows up there.
"""

from __future__ import annotations

import re


class ConfigError(ValueError):
    """An environment config that AWS would reject or that lacks a required operator value."""


MWAA_CLASSES = ("mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge")
# mw1.micro runs one combined scheduler/worker; larger classes take 2-5 schedulers.
MWAA_MICRO = "mw1.micro"
MWAA_SCHEDULERS_ABOVE_MICRO = (2, 5)
MWAA_MICRO_MAX_WORKERS = 1


def _fargate_memory() -> dict[int, tuple[int, ...]]:
    gib = 1024
    return {
        256: (512, 1024, 2048),
        512: tuple(range(1 * gib, 4 * gib + 1, gib)),
        1024: tuple(range(2 * gib, 8 * gib + 1, gib)),
        2048: tuple(range(4 * gib, 16 * gib + 1, gib)),
        4096: tuple(range(8 * gib, 30 * gib + 1, gib)),
        8192: tuple(range(16 * gib, 60 * gib + 1, 4 * gib)),
        16384: tuple(range(32 * gib, 120 * gib + 1, 8 * gib)),
    }


# Task CPU units -> the memory sizes (MiB) Fargate accepts with it.
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = _fargate_memory()
# Families RDS for PostgreSQL offers (general purpose, memory optimized, burstable).
RDS_POSTGRES_FAMILIES = (
    "m5", "m5d", "m6g", "m6gd", "m6i", "m6id", "m6idn", "m6in", "m7g", "m7i", "m8g", "m8gd",
    "r5", "r5b", "r5d", "r6g", "r6gd", "r6i", "r6id", "r6idn", "r6in", "r7g", "r7i", "r8g",
    "r8gd", "t3", "t4g",
)  # fmt: skip
_RDS_SIZE = re.compile(r"^(micro|small|medium|large|xlarge|[1-9][0-9]?xlarge)$")
_SAGEMAKER_INSTANCE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
LAMBDA_MEMORY_MIB = (128, 10_240)


def check_mwaa(environment_class: str, schedulers: int, min_workers: int, max_workers: int) -> None:
    """MWAA's class, scheduler and worker rules."""
    if environment_class not in MWAA_CLASSES:
        raise ConfigError(
            f"orchestration.environment_class={environment_class!r} is not an MWAA class; "
            f"expected one of {', '.join(MWAA_CLASSES)}"
        )
    if environment_class == MWAA_MICRO:
        if schedulers != 1:
            raise ConfigError(
                f"orchestration.schedulers={schedulers}: mw1.micro runs exactly 1 scheduler"
            )
        if max_workers > MWAA_MICRO_MAX_WORKERS:
            raise ConfigError(
                f"orchestration.max_workers={max_workers}: mw1.micro runs a single combined "
                "scheduler/worker (max_workers must be 1); choose mw1.small to scale workers"
            )
    else:
        low, high = MWAA_SCHEDULERS_ABOVE_MICRO
        if not low <= schedulers <= high:
            raise ConfigError(
                f"orchestration.schedulers={schedulers} is not valid for {environment_class}: "
                f"MWAA accepts {low} to {high} schedulers above mw1.micro"
            )
    if not 1 <= min_workers <= max_workers:
        raise ConfigError(
            f"orchestration.min_workers={min_workers} must be at least 1 and at most "
            f"max_workers={max_workers}"
        )


def check_fargate(cpu: int, memory_mib: int) -> None:
    """A Fargate task size AWS accepts."""
    allowed = FARGATE_MEMORY_BY_CPU.get(cpu)
    if allowed is None:
        raise ConfigError(
            f"serving.cpu={cpu} is not a Fargate CPU size; expected one of "
            f"{', '.join(map(str, FARGATE_MEMORY_BY_CPU))}"
        )
    if memory_mib not in allowed:
        raise ConfigError(
            f"serving.memory_mib={memory_mib} does not pair with serving.cpu={cpu} on Fargate; "
            f"allowed: {allowed[0]}-{allowed[-1]} MiB in steps of {_step(allowed)}"
        )


def _step(values: tuple[int, ...]) -> int:
    return values[1] - values[0] if len(values) > 1 else values[0]


def check_rds_class(instance_class: str) -> None:
    """An RDS for PostgreSQL instance class, written without the `db.` prefix."""
    family, _, size = instance_class.partition(".")
    if instance_class.startswith("db."):
        raise ConfigError(
            f"database.instance_class={instance_class!r}: leave out the `db.` prefix (RDS adds it)"
        )
    if family not in RDS_POSTGRES_FAMILIES or not _RDS_SIZE.match(size):
        raise ConfigError(
            f"database.instance_class={instance_class!r} is not an RDS for PostgreSQL class; "
            f"families: {', '.join(RDS_POSTGRES_FAMILIES)}"
        )


def check_sagemaker_instance(instance_type: str) -> None:
    """A SageMaker instance type name (`ml.<family>.<size>`)."""
    if not _SAGEMAKER_INSTANCE.match(instance_type):
        raise ConfigError(
            f"processing_instance_type={instance_type!r} is not a SageMaker instance type "
            "(ml.<family>.<size>)"
        )


def check_lambda_memory(memory_mib: int) -> None:
    """Lambda's memory range."""
    low, high = LAMBDA_MEMORY_MIB
    if not low <= memory_mib <= high:
        raise ConfigError(
            f"serving.lambda_memory_mib={memory_mib} is outside Lambda's {low}-{high} MiB"
        )


# Burstable sizes' memory (GiB); general purpose (m) has 4 GiB per vCPU, memory optimized (r) 8.
_RDS_BURSTABLE_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
_RDS_GIB_PER_VCPU = {"m": 4, "r": 8}


def rds_memory_gib(instance_class: str) -> int:
    """Memory of an RDS instance class (as AWS documents it), for sizing memory parameters."""
    family, _, size = instance_class.partition(".")
    if family.startswith("t"):
        return _RDS_BURSTABLE_GIB[size]
    if size == "large":
        vcpus = 2
    elif size == "xlarge":
        vcpus = 4
    else:
        vcpus = 4 * int(size.removesuffix("xlarge"))
    return vcpus * _RDS_GIB_PER_VCPU[family[0]]


def check_maintenance_work_mem(instance_class: str, megabytes: int) -> None:
    """maintenance_work_mem must fit with room to spare (HNSW builds take all of it)."""
    limit = rds_memory_gib(instance_class) * 1024 // 2
    if not 64 <= megabytes <= limit:
        raise ConfigError(
            f"database.maintenance_work_mem_mb={megabytes} must be 64..{limit} for "
            f"{instance_class} (at most half of its {rds_memory_gib(instance_class)} GiB)"
        )

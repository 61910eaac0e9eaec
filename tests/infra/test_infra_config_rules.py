"""Environment configs satisfy AWS's own rules, read from botocore's service models and
cfn-lint's RDS tables, and a config that lacks an operator value refuses to synthesize."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import botocore
import cfnlint
import pytest
from botocore.loaders import Loader

from infra.config import ENVIRONMENTS, ApiClient, get_config
from infra.operator_values import EXAMPLE, from_context, load_operator_values
from infra.service_rules import (
    FARGATE_MEMORY_BY_CPU,
    MWAA_CLASSES,
    MWAA_SCHEDULERS_ABOVE_MICRO,
    RDS_POSTGRES_FAMILIES,
    ConfigError,
    check_fargate,
    check_mwaa,
    check_rds_class,
)

REPO = Path(__file__).resolve().parents[2]
LOADER = Loader()


def _doc(service: str, shape: str, member: str) -> str:
    model = LOADER.load_service_model(service, "service-2")
    return model["shapes"][shape]["members"][member]["documentation"]


def mwaa_classes() -> set[str]:
    doc = _doc("mwaa", "CreateEnvironmentInput", "EnvironmentClass")
    return set(re.findall(r"<code>(mw1\.[a-z0-9]+)</code>", doc))


def mwaa_scheduler_range() -> tuple[int, int]:
    doc = _doc("mwaa", "CreateEnvironmentInput", "Schedulers")
    low, high = re.search(r"larger than mw1.micro, accepts values from <code>(\d)</code> to "
                          r"<code>(\d)</code>", doc).groups()  # fmt: skip
    return int(low), int(high)


def fargate_sizes() -> dict[int, set[int]]:
    """CPU units -> memory MiB, parsed from the ECS model's table for the Fargate launch type."""
    doc = _doc("ecs", "RegisterTaskDefinitionRequest", "memory")
    sizes: dict[int, set[int]] = {}
    for item in re.findall(r"<li> <p>(.*?)</p>", doc):
        cpu = int(re.search(r"Available <code>cpu</code> values: (\d+)", item).group(1))
        if between := re.search(r"Between (\d+) \(\d+ GB\) and (\d+) \(\d+ GB\) in increments "
                                r"of (\d+)", item):  # fmt: skip
            low, high, step = map(int, between.groups())
            sizes[cpu] = set(range(low, high + 1, step))
        elif between := re.search(r"Between (\d+) ?GB and (\d+) ?GB in (\d+) ?GB increments", item):
            low, high, step = (int(v) * 1024 for v in between.groups())
            sizes[cpu] = set(range(low, high + 1, step))
        else:
            sizes[cpu] = {int(v) for v in re.findall(r"(\d+) \(\d+(?:\.\d+)? GB\)", item)}
    return sizes


def rds_postgres_classes(region: str = "us-east-1") -> set[str]:
    path = Path(cfnlint.__file__).parent / "data/schemas/extensions/aws_rds_dbinstance"
    table = json.loads((path / "dbinstanceclass_enum.json").read_text())[region]
    for rule in table["allOf"]:
        engine = rule["if"]["properties"].get("Engine", {})
        if engine.get("const") == "postgres":
            return set(rule["then"]["properties"]["DBInstanceClass"]["enum"])
    raise AssertionError("cfn-lint has no postgres table")


def test_tables_match_what_botocore_documents() -> None:
    assert set(MWAA_CLASSES) == mwaa_classes(), botocore.__version__
    assert mwaa_scheduler_range() == MWAA_SCHEDULERS_ABOVE_MICRO
    documented = fargate_sizes()
    assert {cpu: set(memory) for cpu, memory in FARGATE_MEMORY_BY_CPU.items()} == documented


@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_each_environment_satisfies_the_documented_rules(name: str) -> None:
    config = ENVIRONMENTS[name]
    orchestration = config.orchestration
    assert orchestration.environment_class in mwaa_classes()
    low, high = mwaa_scheduler_range()
    if orchestration.environment_class == "mw1.micro":
        assert orchestration.schedulers == 1 and orchestration.max_workers == 1
    else:
        assert low <= orchestration.schedulers <= high
    if config.serving.mode == "fargate":
        assert config.serving.memory_mib in fargate_sizes()[config.serving.cpu]
    assert f"db.{config.database.instance_class}" in rds_postgres_classes(config.region)


def test_every_family_we_accept_is_one_rds_offers_for_postgres() -> None:
    offered = {c.removeprefix("db.").split(".")[0] for c in rds_postgres_classes()}
    assert set(RDS_POSTGRES_FAMILIES) <= offered


def _serving(**changes: object) -> object:
    return dataclasses.replace(ENVIRONMENTS["prod"].serving, **changes)


@pytest.mark.parametrize(
    ("check", "field"),
    [
        (lambda: check_mwaa("mw1.small", 1, 1, 4), "orchestration.schedulers=1"),
        (lambda: check_mwaa("mw1.micro", 1, 1, 2), "orchestration.max_workers=2"),
        (lambda: check_mwaa("mw1.tiny", 1, 1, 1), "orchestration.environment_class"),
        (lambda: check_fargate(2048, 2048), "serving.memory_mib=2048"),
        (lambda: check_fargate(3000, 4096), "serving.cpu=3000"),
        (lambda: check_rds_class("db.t4g.micro"), "leave out the `db.` prefix"),
        (lambda: check_rds_class("t2.micro"), "database.instance_class='t2.micro'"),
        (lambda: ApiClient("Bad Name"), "serving.clients"),
        (lambda: ApiClient("ok", principal_arn="arn:aws:s3:::bucket"), "principal_arn"),
        (lambda: _serving(blue_green_check_paths=("ready",)), "serving.blue_green_check_paths"),
        (lambda: _serving(blue_green_check_paths=()), "serving.blue_green_check_paths"),
        (
            lambda: _serving(blue_green_check_paths=("/ready?full=1",)),
            "serving.blue_green_check_paths",
        ),
        (lambda: _serving(blue_green_check_attempts=0), "serving.blue_green_check_attempts=0"),
        (lambda: _serving(blue_green_check_attempts=True), "serving.blue_green_check_attempts"),
    ],
)
def test_invalid_values_are_named(check, field: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(field)):
        check()


def test_the_audited_mistakes_no_longer_build() -> None:
    prod = ENVIRONMENTS["prod"]
    with pytest.raises(ConfigError, match="MWAA accepts 2 to 5 schedulers"):
        dataclasses.replace(prod.orchestration, schedulers=1)
    with pytest.raises(ConfigError, match=r"mw1\.micro runs a single combined"):
        dataclasses.replace(ENVIRONMENTS["staging"].orchestration, max_workers=2)


def test_staging_and_prod_need_operator_values() -> None:
    with pytest.raises(ConfigError) as missing:
        get_config("prod").check_deployable()
    assert "certificate_arn" in str(missing.value) and "alert_emails" in str(missing.value)
    get_config("dev").check_deployable()  # dev: Lambda API, alerts optional
    for name in ("staging", "prod"):
        get_config(name, operator_values=load_operator_values(EXAMPLE, name)).check_deployable()
    moved = get_config(
        "prod", region="eu-west-1", operator_values=load_operator_values(EXAMPLE, "prod")
    )
    with pytest.raises(ConfigError, match="certificate_arn is in us-east-1, the ALB in eu-west-1"):
        moved.check_deployable()
    with pytest.raises(ConfigError, match="unknown operator values"):
        get_config("prod", operator_values={"certificate": "x"})
    with pytest.raises(ConfigError, match="not an email address"):
        get_config("prod", operator_values={"alert_emails": "oncall"})


def test_context_keys_overlay_the_operator_file() -> None:
    values = from_context(
        {"operator_values": str(EXAMPLE), "alert_emails": "a@example.com,b@example.com"}, "prod"
    )
    config = get_config("prod", operator_values=values)
    assert config.alert_emails == ("a@example.com", "b@example.com")
    assert config.serving.certificate_arn and [c.name for c in config.serving.clients] == [
        "portal",
        "batch-scoring",
    ]


def test_synth_without_operator_values_fails_with_a_clear_message(tmp_path: Path) -> None:
    from infra.cdk_context import context_for

    environment = {
        **os.environ,
        "CDK_OUTDIR": str(tmp_path),
        "CDK_CONTEXT_JSON": json.dumps(context_for("prod")),
        "PYTHONPATH": str(REPO),
    }
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1
    assert "beacon: cannot synthesize prod" in result.stderr
    assert "certificate_arn" in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.template.json"))

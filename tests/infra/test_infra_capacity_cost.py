"""Capacity as configuration (#18) and cost levers: config checks, synthesized properties, idle
state, optional switches (replica, proxy, Studio) under cdk-nag, and `make cost` steps."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from infra_support import BuiltEnvironment, as_list, example_config, statements

from infra import cost
from infra.app_builder import build_app
from infra.cdk_context import context_for
from infra.config import (
    ENVIRONMENTS,
    MEASURED_WORKER_RPS,
    ApiClient,
    DatabaseConfig,
    EnvironmentConfig,
    ServingConfig,
    get_config,
)
from infra.operator_values import EXAMPLE, load_operator_values
from infra.service_rules import ConfigError, rds_memory_gib

DEV_TARGET_USD = 250
IDLE_TARGET_USD = 60


def _db(**changes: Any) -> DatabaseConfig:
    return dataclasses.replace(ENVIRONMENTS["dev"].database, **changes)


def _serving(**changes: Any) -> ServingConfig:
    return dataclasses.replace(ENVIRONMENTS["prod"].serving, **changes)


def _env(name: str = "dev", **changes: Any) -> EnvironmentConfig:
    return dataclasses.replace(ENVIRONMENTS[name], **changes)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: _serving(workers_per_task=5), "serving.workers_per_task=5"),
        (lambda: _serving(workers_per_task=0), "serving.workers_per_task=0"),
        (lambda: _serving(scaling_headroom=1.5), "serving.scaling_headroom"),
        (lambda: _serving(min_tasks=3, desired_tasks=2), "min_tasks (3)"),
        (lambda: _serving(min_tasks=0, desired_tasks=0, max_tasks=0), "max_tasks >= 1"),
        (lambda: _serving(max_tasks=500), "serving.max_tasks=500"),
        (lambda: _serving(throttle_burst_limit=10), "throttle_burst_limit (10)"),
        (lambda: _serving(quota_requests_per_day=0), "serving.quota_requests_per_day"),
        (lambda: ApiClient("portal", quota_requests_per_day=-5), "clients[portal].quota"),
        (lambda: ApiClient("portal", throttle_rate_limit=True), "clients[portal].throttle"),
        (lambda: _db(maintenance_work_mem_mb=4096), "database.maintenance_work_mem_mb=4096"),
        (lambda: _db(maintenance_work_mem_mb=10), "database.maintenance_work_mem_mb=10"),
        (lambda: _db(vector_storage="float8"), "database.vector_storage"),
        (lambda: _db(allocated_storage_gib=5, max_allocated_storage_gib=50), "allocated_storage"),
        (lambda: _db(read_replica=True, stopped=True), "database.stopped"),
        (lambda: _env(refresh_instance_count=0), "refresh_instance_count=0"),
        (lambda: _env(hpo_instance_count=21), "hpo_instance_count=21"),
        (lambda: _env(refresh_instance_count="4"), "refresh_instance_count='4'"),
        (lambda: _env(refresh_workers_per_instance=0), "refresh_workers_per_instance=0"),
        (lambda: _env(nat="gateway"), "nat='gateway'"),
        (lambda: _env("prod", nat="instance"), "nat='instance'"),
        (lambda: ENVIRONMENTS["prod"].with_idle(), "prod has no idle state"),
        (
            lambda: get_config("prod", operator_values={"api_clients": [{"name": "a1", "qps": 3}]}),
            "api_clients",
        ),
    ],
)
def test_bad_capacity_values_are_refused_by_name(make: Any, field: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(field)):
        make()


def test_capacity_follows_the_task_size_and_the_measured_worker() -> None:
    for config in ENVIRONMENTS.values():
        serving = config.serving
        assert serving.workers == max(1, serving.cpu // 1024)
        expected = int(MEASURED_WORKER_RPS * 60 * serving.workers * serving.scaling_headroom)
        assert serving.requests_per_target == expected
    assert ENVIRONMENTS["prod"].serving.workers == 2
    counts = {n: (c.refresh_instance_count, c.hpo_instance_count) for n, c in ENVIRONMENTS.items()}
    assert counts == {"dev": (1, 1), "staging": (2, 1), "prod": (4, 2)}
    assert rds_memory_gib("m7g.large") == 8 and rds_memory_gib("r7g.2xlarge") == 64
    assert all(c.database.vector_storage == "vector" for c in ENVIRONMENTS.values())
    assert not any(c.database.read_replica or c.database.proxy for c in ENVIRONMENTS.values())
    assert not any(c.studio_domain for c in ENVIRONMENTS.values())


def _container(env: BuiltEnvironment) -> dict[str, Any]:
    task = env.one("AWS::ECS::TaskDefinition", "Serving")["Properties"]
    (container,) = task["ContainerDefinitions"]
    return {**container, "_volumes": task.get("Volumes", [])}


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_tasks_run_one_worker_per_vcpu_on_a_read_only_root(
    name: str, built: dict[str, BuiltEnvironment]
) -> None:
    env, serving = built[name], ENVIRONMENTS[name].serving
    container = _container(env)
    variables = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert variables["BEACON_WORKERS"] == str(serving.workers)
    assert container["ReadonlyRootFilesystem"] is True
    mounts = {m["ContainerPath"]: m for m in container["MountPoints"]}
    assert set(mounts) == {"/tmp", "/app"}
    assert all(m["ReadOnly"] is False for m in mounts.values())
    assert {v["Name"] for v in container["_volumes"]} == {
        m["SourceVolume"] for m in mounts.values()
    }
    target = env.one("AWS::ApplicationAutoScaling::ScalableTarget")["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (serving.min_tasks, serving.max_tasks)
    if not serving.blue_green:
        request_policies = [
            p["Properties"]["TargetTrackingScalingPolicyConfiguration"]
            for p in env.resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
            if "ALBRequestCountPerTarget" in json.dumps(p)
        ]
        assert [p["TargetValue"] for p in request_policies] == [serving.requests_per_target]


def test_each_client_has_its_own_usage_plan_and_limits(prod: BuiltEnvironment) -> None:
    clients = load_operator_values(EXAMPLE, "prod")["api_clients"]
    plans = {
        p["Properties"]["UsagePlanName"]: p["Properties"]
        for p in prod.resources("AWS::ApiGateway::UsagePlan", "Serving").values()
    }
    assert set(plans) == {f"beacon-prod-{c['name']}" for c in clients}
    for client in clients:
        plan = plans[f"beacon-prod-{client['name']}"]
        assert plan["Throttle"] == {
            "RateLimit": client["throttle_rate_limit"],
            "BurstLimit": client["throttle_burst_limit"],
        }
        assert plan["Quota"] == {"Limit": client["quota_requests_per_day"], "Period": "DAY"}
    links = prod.resources("AWS::ApiGateway::UsagePlanKey", "Serving")
    assert len(links) == len(clients)


def test_database_parameters_and_switches(env: BuiltEnvironment) -> None:
    db = ENVIRONMENTS[env.name].database
    group = env.one("AWS::RDS::DBParameterGroup", "Data")["Properties"]["Parameters"]
    assert group["maintenance_work_mem"] == str(db.maintenance_work_mem_mb * 1024)
    # Off by default: one instance, no proxy.
    assert len(env.resources("AWS::RDS::DBInstance", "Data")) == 1
    assert not env.resources("AWS::RDS::DBProxy")


def test_processing_settings_reach_airflow(env: BuiltEnvironment) -> None:
    config = ENVIRONMENTS[env.name]
    options = env.one("AWS::MWAA::Environment", "Ml")["Properties"]["AirflowConfigurationOptions"]
    assert options["beacon.refresh_instance_count"] == str(config.refresh_instance_count)
    assert options["beacon.hpo_instance_count"] == str(config.hpo_instance_count)
    assert options["beacon.refresh_workers"] == str(config.refresh_workers_per_instance or "auto")
    key = options["beacon.processing_volume_kms_key_id"]
    assert "DataKey" in json.dumps(key)
    policies = env.resources("AWS::IAM::ManagedPolicy", "Ml")
    volume = [
        s
        for logical_id, policy in policies.items()
        if logical_id.startswith("ProcessingPolicy")
        for s in statements(policy)
        if s.get("Sid") == "VolumeKey"
    ]
    assert volume and set(as_list(volume[0]["Action"])) == {"kms:CreateGrant", "kms:DescribeKey"}


def test_dev_uses_a_hardened_nat_instance_and_no_interface_endpoints(
    dev: BuiltEnvironment, staging: BuiltEnvironment
) -> None:
    assert not dev.resources("AWS::EC2::NatGateway")
    interface = [
        e
        for e in dev.resources("AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Interface"
    ]
    assert interface == []
    instance = dev.one("AWS::EC2::Instance", "Network")["Properties"]
    assert instance["InstanceType"] == "t4g.nano" and instance["Monitoring"] is True
    assert instance["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    template = dev.one("AWS::EC2::LaunchTemplate", "Network")["Properties"]
    assert template["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] == "required"
    ingress = [
        r
        for g in dev.resources("AWS::EC2::SecurityGroup", "Network").values()
        if "NAT" in g["Properties"].get("GroupDescription", "")
        or "Nat" in json.dumps(g["Properties"].get("Tags", ""))
        for r in g["Properties"].get("SecurityGroupIngress", [])
    ]
    assert ingress and all(r["CidrIp"] == "10.10.0.0/16" for r in ingress)
    # Staging and prod keep the managed NAT gateways and the interface endpoints.
    assert staging.resources("AWS::EC2::NatGateway")


def _synth(config: EnvironmentConfig, outdir: Path, *, with_nag: bool) -> dict[str, Any]:
    app = App(context=context_for(config.name), outdir=str(outdir))
    build_app(config, app=app, with_nag=with_nag)
    app.synth()  # with the nag packs, any unacknowledged finding fails here
    return {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in outdir.glob("*.template.json")
    }


def _resources(templates: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for t in templates.values() for r in t["Resources"].values() if r["Type"] == kind]


@pytest.fixture(scope="module")
def dev_idle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _synth(example_config("dev").with_idle(), tmp_path_factory.mktemp("idle"), with_nag=True)


def test_idle_state_leaves_mwaa_out_and_keeps_the_database_stopped(
    dev_idle: dict[str, Any],
) -> None:
    assert not _resources(dev_idle, "AWS::MWAA::Environment")
    (instance,) = _resources(dev_idle, "AWS::RDS::DBInstance")
    assert instance["Metadata"]["BeaconStopped"] is True
    (schedule,) = _resources(dev_idle, "AWS::Scheduler::Schedule")
    assert schedule["Properties"]["Target"]["Arn"].endswith(":rds:stopDBInstance")
    # Processing stays usable by hand: its role and security group are still there.
    roles = [
        r
        for r in _resources(dev_idle, "AWS::IAM::Role")
        if "sagemaker.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
    ]
    assert roles


def test_cost_of_dev_today_idle_and_the_10x_steps(
    built: dict[str, BuiltEnvironment], dev_idle: dict[str, Any]
) -> None:
    table = cost.load_prices("us-east-1")
    dev = cost.total(cost.estimate(built["dev"].templates, table, "dev"))
    idle_items = cost.estimate(dev_idle, table, "dev")
    idle = cost.total(idle_items)
    assert dev <= DEV_TARGET_USD and idle <= IDLE_TARGET_USD, (dev, idle)
    (database,) = [i for i in idle_items if i.resource_type == "AWS::RDS::DBInstance"]
    assert "stopped" in database.detail and database.monthly_usd < 5
    assert not [i for i in idle_items if i.resource_type == "AWS::MWAA::Environment"]
    for name in ("dev", "prod"):
        text, rows = cost.render_steps(built[name].templates, table, name)
        today, traffic, postings, both = rows
        assert today["delta"] == 0
        assert 0 < traffic["delta"] < both["delta"] and 0 < postings["delta"] < both["delta"]
        assert "traffic x10" in text and "postings x10" in text
    # Prod's traffic step sizes Fargate from the measured capacity, not the minimum.
    prod_steps = cost.estimate(built["prod"].templates, table, "prod", cost.steps(table)[1])
    (service,) = [i for i in prod_steps if i.resource_type == "AWS::ECS::Service"]
    assert "tasks at peak" in service.detail


def test_cost_cli_prints_steps(
    built: dict[str, BuiltEnvironment], capsys: pytest.CaptureFixture[str]
) -> None:
    cost.main(
        ["--env", "staging", "--templates", str(built["staging"].outdir), "--json", "--steps"]
    )
    report = json.loads(capsys.readouterr().out)
    assert [s["step"] for s in report["steps"]][:3] == ["today", "traffic x10", "postings x10"]


def test_optional_replica_proxy_and_studio_synthesize_nag_clean(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    base = example_config("prod")
    config = dataclasses.replace(
        base,
        studio_domain=True,
        database=dataclasses.replace(base.database, read_replica=True, proxy=True),
    )
    templates = _synth(config, tmp_path_factory.mktemp("switches"), with_nag=True)
    instances = _resources(templates, "AWS::RDS::DBInstance")
    assert sum("SourceDBInstanceIdentifier" in i["Properties"] for i in instances) == 1
    (proxy,) = _resources(templates, "AWS::RDS::DBProxy")
    assert proxy["Properties"]["RequireTLS"] is True
    (domain,) = _resources(templates, "AWS::SageMaker::Domain")
    assert domain["Properties"]["AppNetworkAccessType"] == "VpcOnly"
    assert domain["Properties"]["AuthMode"] == "IAM" and "KmsKeyId" in domain["Properties"]
    table = cost.load_prices("us-east-1")
    kinds = {i.resource_type for i in cost.estimate(templates, table, "prod")}
    assert "AWS::RDS::DBProxy" in kinds

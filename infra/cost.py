"""Estimates an environment's monthly bill from its synthesized templates and a dated price table.

Run `python -m infra.cost --env dev --templates cdk.out/dev` (or `make cost ENV=dev`).
Only resources that cost money by themselves are priced; usage-driven amounts come from the
`usage` assumptions in the price table, which the output repeats so nobody mistakes them
for measurements.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.config import ENVIRONMENTS, MEASURED_WORKER_RPS

PRICES_DIR = Path(__file__).resolve().parent / "prices"


@dataclass(frozen=True)
class Scale:
    """One step of `--steps`: multipliers on usage, database class and storage."""

    name: str = "today"
    usage_factors: dict[str, float] = field(default_factory=dict)
    traffic_factor: float = 1.0
    rds_class_steps: int = 0
    rds_storage_factor: float = 1.0


TODAY = Scale()


@dataclass(frozen=True)
class LineItem:
    """One priced resource (or usage assumption) of the estimate."""

    logical_id: str
    resource_type: str
    detail: str
    monthly_usd: float


def load_templates(folder: Path) -> dict[str, dict[str, Any]]:
    """Stack name -> template, for every *.template.json in `folder`."""
    templates = {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in sorted(folder.glob("*.template.json"))
    }
    if not templates:
        raise FileNotFoundError(f"no *.template.json in {folder}: run `make synth` first")
    return templates


def load_prices(region: str) -> dict[str, Any]:
    """The checked-in price table of `region`."""
    path = PRICES_DIR / f"{region}.json"
    if not path.is_file():
        known = ", ".join(p.stem for p in PRICES_DIR.glob("*.json"))
        raise FileNotFoundError(f"no price table for {region} (have: {known})")
    return json.loads(path.read_text())


def _resources(templates: dict[str, dict[str, Any]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for template in templates.values():
        for logical_id, resource in template.get("Resources", {}).items():
            yield logical_id, resource["Type"], resource.get("Properties", {}) or {}


def _number(value: Any, default: float) -> float:
    """Numbers are literal in our templates; anything else (a token) falls back to default."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _rds_class(table: dict[str, Any], klass: str, steps: int) -> str:
    """`steps` sizes up the price table's class ladder (capped at its top)."""
    if not steps:
        return klass
    ladder = table["rds_class_ladder"]
    index = ladder.index(klass) if klass in ladder else 0
    return ladder[min(len(ladder) - 1, index + steps)]


def _tasks_for_traffic(
    table: dict[str, Any], env: str, usage: dict[str, Any], minimum: float, workers: float
) -> float:
    """Fargate tasks the scaled traffic needs at peak, from the measured worker capacity."""
    seconds = table["hours_per_month"] * 3600
    peak_rps = usage["api_million"] * 1e6 / seconds * table["peak_to_average"]
    headroom = ENVIRONMENTS[env].serving.scaling_headroom
    per_task = MEASURED_WORKER_RPS * max(1.0, workers) * headroom
    return max(minimum, math.ceil(peak_rps / per_task))


@dataclass(frozen=True)
class _Pricing:
    """What every resource's price reads: the templates, the price table and the step."""

    templates: dict[str, dict[str, Any]]
    table: dict[str, Any]
    env: str
    scale: Scale
    usage: dict[str, float]
    instances: dict[str, dict[str, Any]]

    @property
    def prices(self) -> dict[str, Any]:
        return self.table["prices"]

    @property
    def hours(self) -> float:
        return self.table["hours_per_month"]


#: A resource's (detail, monthly USD), or None when it costs nothing by itself.
_Priced = tuple[str, float] | None
#: Prices one resource: (pricing inputs, logical id, properties) -> _Priced.
_Pricer = Callable[["_Pricing", str, dict[str, Any]], _Priced]


def _nat_gateway(c: _Pricing, _id: str, _props: dict[str, Any]) -> _Priced:
    p = c.prices
    return "NAT gateway hours + its public IPv4", c.hours * (
        p["nat_gateway_hour"] + p["public_ipv4_hour"]
    )


def _vpc_endpoint(c: _Pricing, _id: str, props: dict[str, Any]) -> _Priced:
    if props.get("VpcEndpointType") != "Interface":
        return None
    azs = len(props.get("SubnetIds", [])) or 2
    return f"interface endpoint in {azs} AZs", c.hours * azs * c.prices[
        "interface_endpoint_az_hour"
    ]


def _rds_instance(c: _Pricing, logical_id: str, props: dict[str, Any]) -> _Priced:
    p = c.prices
    klass = _rds_class(
        c.table, props.get("DBInstanceClass", "db.t4g.micro"), c.scale.rds_class_steps
    )
    multi_az = bool(props.get("MultiAZ"))
    storage = _rds_storage(c.instances, props) * c.scale.rds_storage_factor
    factor = 2 if multi_az else 1
    stopped = bool(_metadata(c.templates, logical_id).get("BeaconStopped"))
    # A stopped instance (idle state) bills its storage only.
    compute = 0 if stopped else c.hours * p["rds_postgres_hour"][klass] * factor
    disk = storage * p["rds_gp3_gb_month"] * factor
    az = "Multi-AZ" if multi_az else "single-AZ"
    what = "replica" if props.get("SourceDBInstanceIdentifier") else az
    state = ", stopped" if stopped else ""
    return f"{klass} {what}, {storage:.0f} GiB gp3{state}", compute + disk


def _rds_proxy(c: _Pricing, _id: str, _props: dict[str, Any]) -> _Priced:
    classes = (
        _rds_class(c.table, i.get("DBInstanceClass", ""), c.scale.rds_class_steps)
        for i in c.instances.values()
        if not i.get("SourceDBInstanceIdentifier")
    )
    vcpus = max(2, sum(c.table["rds_vcpus"].get(klass, 2) for klass in classes))
    return f"RDS Proxy, {vcpus} vCPUs", c.hours * vcpus * c.prices["rds_proxy_vcpu_hour"]


def _nat_instance(c: _Pricing, _id: str, props: dict[str, Any]) -> _Priced:
    p = c.prices
    instance_type = props.get("InstanceType", "t4g.nano")
    public_ip = any(n.get("AssociatePublicIpAddress") for n in props.get("NetworkInterfaces", []))
    volumes = props.get("BlockDeviceMappings", [])
    disk = sum(_number(m.get("Ebs", {}).get("VolumeSize"), 8) for m in volumes) or 8
    amount = c.hours * (p["ec2_hour"][instance_type] + (p["public_ipv4_hour"] if public_ip else 0))
    detail = (
        f"{instance_type} (NAT instance){' + public IPv4' if public_ip else ''}, {disk:.0f} GB gp3"
    )
    return detail, amount + disk * p["ebs_gp3_gb_month"]


def _backup_plan(c: _Pricing, _id: str, _props: dict[str, Any]) -> _Priced:
    storage = sum(
        _rds_storage(c.instances, props) * c.scale.rds_storage_factor
        for props in c.instances.values()
        if not props.get("SourceDBInstanceIdentifier")
    )
    return f"~{storage:.0f} GB of RDS backups in the vault", storage * c.prices[
        "backup_rds_gb_month"
    ]


def _ecs_service(c: _Pricing, _id: str, props: dict[str, Any]) -> _Priced:
    p = c.prices
    task = _task_definition(c.templates, props)
    cpu = _number(task.get("Cpu"), 1024) / 1024
    memory = _number(task.get("Memory"), 2048) / 1024
    count = _number(props.get("DesiredCount"), 1)
    what = "min tasks"
    if c.scale.traffic_factor != 1 and count:
        workers = _number(_container_env(task).get("BEACON_WORKERS"), 1)
        count = _tasks_for_traffic(c.table, c.env, c.usage, count, workers)
        what = "tasks at peak"
    per_task = c.hours * (cpu * p["fargate_vcpu_hour"] + memory * p["fargate_gb_hour"])
    return f"{count:.0f} x Fargate {cpu:g} vCPU / {memory:g} GB ({what})", count * per_task


def _load_balancer(c: _Pricing, _id: str, _props: dict[str, Any]) -> _Priced:
    return "ALB hours + 1 LCU", c.hours * (c.prices["alb_hour"] + c.prices["alb_lcu_hour"])


def _rest_api(c: _Pricing, _id: str, _props: dict[str, Any]) -> _Priced:
    requests = c.usage["api_million"]
    return f"{requests}M REST requests", requests * c.prices["apigw_rest_million"]


def _web_acl(c: _Pricing, _id: str, props: dict[str, Any]) -> _Priced:
    p, requests = c.prices, c.usage["api_million"]
    rules = len(props.get("Rules", []))
    amount = p["waf_web_acl_month"] + rules * p["waf_rule_month"] + requests * p["waf_million"]
    return f"web ACL, {rules} rule groups, {requests}M requests", amount


def _mwaa(c: _Pricing, _id: str, props: dict[str, Any]) -> _Priced:
    p = c.prices
    klass = props.get("EnvironmentClass", "mw1.small")
    workers = _number(props.get("MinWorkers"), 1)
    amount = c.hours * (
        p["mwaa_environment_hour"][klass] + max(0, workers - 1) * p["mwaa_worker_hour"][klass]
    )
    detail = f"{klass}, {workers:.0f} min workers, Airflow {props.get('AirflowVersion')}"
    return detail, amount + p["mwaa_metadb_gb_month"] * 10


def _flat(detail: str, price: str) -> _Pricer:
    """A resource billed a fixed monthly price from the table."""
    return lambda c, _id, _props: (detail, c.prices[price])


_PRICERS: dict[str, _Pricer] = {
    "AWS::EC2::NatGateway": _nat_gateway,
    "AWS::EC2::VPCEndpoint": _vpc_endpoint,
    "AWS::KMS::Key": _flat("customer-managed key", "kms_key_month"),
    "AWS::SecretsManager::Secret": _flat("secret", "secret_month"),
    "AWS::RDS::DBInstance": _rds_instance,
    "AWS::RDS::DBProxy": _rds_proxy,
    "AWS::EC2::Instance": _nat_instance,
    "AWS::Backup::BackupPlan": _backup_plan,
    "AWS::ECS::Service": _ecs_service,
    "AWS::ECS::Cluster": _flat(
        "Container Insights metrics", "container_insights_month_per_service"
    ),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _load_balancer,
    "AWS::ApiGateway::RestApi": _rest_api,
    "AWS::WAFv2::WebACL": _web_acl,
    "AWS::MWAA::Environment": _mwaa,
    "AWS::SageMaker::MlflowApp": _flat(
        "serverless MLflow app (artifacts billed as S3)", "mlflow_app_month"
    ),
    "AWS::CloudWatch::Dashboard": _flat("dashboard", "cloudwatch_dashboard_month"),
}


def estimate(
    templates: dict[str, dict[str, Any]],
    table: dict[str, Any],
    env: str,
    scale: Scale = TODAY,
) -> list[LineItem]:
    """Line items for every cost-bearing resource, plus usage-based items."""
    usage = {
        key: value * scale.usage_factors.get(key, 1) for key, value in table["usage"][env].items()
    }
    instances = {
        logical_id: props
        for logical_id, kind, props in _resources(templates)
        if kind == "AWS::RDS::DBInstance"
    }
    pricing = _Pricing(templates, table, env, scale, usage, instances)
    items: list[LineItem] = []
    for logical_id, kind, props in _resources(templates):
        pricer = _PRICERS.get(kind)
        priced = pricer(pricing, logical_id, props) if pricer else None
        if priced:
            items.append(LineItem(logical_id, kind, priced[0], round(priced[1], 2)))
    items += [LineItem(*item[:3], round(item[3], 2)) for item in _usage_items(pricing)]
    return items


def _usage_items(c: _Pricing) -> list[tuple[str, str, str, float]]:
    """Counted resources (alarms) and usage-driven amounts from the table's assumptions."""
    p, usage = c.prices, c.usage
    kinds = [(kind, props) for _, kind, props in _resources(c.templates)]
    alarms = sum(1 for kind, _ in kinds if kind == "AWS::CloudWatch::Alarm")
    log_groups = sum(1 for kind, _ in kinds if kind == "AWS::Logs::LogGroup")
    nat_count = sum(1 for kind, _ in kinds if kind == "AWS::EC2::NatGateway")
    endpoints = any(
        kind == "AWS::EC2::VPCEndpoint" and props.get("VpcEndpointType") == "Interface"
        for kind, props in kinds
    )
    items: list[tuple[str, str, str, float]] = []

    def add(kind: str, detail: str, amount: float, logical_id: str = "(usage)") -> None:
        items.append((logical_id, kind, detail, amount))

    if alarms:
        alarm_kind = "AWS::CloudWatch::Alarm"
        amount = alarms * p["cloudwatch_alarm_month"]
        add(alarm_kind, f"{alarms} standard alarms", amount, "(alarms)")
    # Without interface endpoints their traffic takes the NAT path; a NAT instance charges no
    # per-GB processing (only the hours priced above).
    nat_gb = usage["nat_gb"] + (0 if endpoints else usage["endpoint_gb"])
    nat_note = "" if nat_count else " (NAT instance: no per-GB fee)"
    nat_amount = nat_gb * p["nat_gateway_gb"] if nat_count else 0
    add("NAT data", f"{nat_gb:g} GB processed{nat_note}", nat_amount)
    endpoint_gb = usage["endpoint_gb"]
    add(
        "Endpoint data",
        f"{endpoint_gb:g} GB" if endpoints else "no interface endpoints",
        endpoint_gb * p["interface_endpoint_gb"] if endpoints else 0,
    )
    log_price = p["logs_ingest_gb"] + p["logs_storage_gb_month"]
    add(
        "CloudWatch Logs",
        f"{usage['log_gb']} GB ingested+stored in {log_groups} groups",
        usage["log_gb"] * log_price,
    )
    add("S3", f"{usage['s3_gb']} GB standard", usage["s3_gb"] * p["s3_standard_gb_month"])
    gb_s = usage["lambda_gb_seconds"]
    add("Lambda", f"{gb_s} GB-s", gb_s * p["lambda_gb_second"])
    klass = _processing_instance(c.templates, c.env)
    hours = usage["processing_hours"]
    hourly = p["sagemaker_processing_hour"].get(klass, 0.115)
    add("SageMaker Processing", f"{hours} h of {klass}", hours * hourly)
    add("ECR", f"{usage['ecr_gb']} GB of images", usage["ecr_gb"] * p["ecr_gb_month"])
    metrics = usage["custom_metrics"]
    add(
        "CloudWatch metrics",
        f"{metrics} custom metrics",
        metrics * p["cloudwatch_custom_metric_month"],
    )
    return items


def _metadata(templates: dict[str, dict[str, Any]], logical_id: str) -> dict[str, Any]:
    for template in templates.values():
        resource = template.get("Resources", {}).get(logical_id)
        if resource:
            return resource.get("Metadata", {}) or {}
    return {}


def _rds_storage(instances: dict[str, dict[str, Any]], props: dict[str, Any]) -> float:
    """Allocated GiB; a replica (no AllocatedStorage of its own) has its source's."""
    if "AllocatedStorage" in props:
        return _number(props["AllocatedStorage"], 20)
    source = props.get("SourceDBInstanceIdentifier")
    ref = source.get("Ref") if isinstance(source, dict) else None
    if ref in instances:
        return _number(instances[ref].get("AllocatedStorage"), 20)
    return 20.0


def _container_env(task: dict[str, Any]) -> dict[str, Any]:
    containers = task.get("ContainerDefinitions", [])
    return {e["Name"]: e.get("Value") for c in containers for e in c.get("Environment", []) or []}


def _task_definition(
    templates: dict[str, dict[str, Any]], service: dict[str, Any]
) -> dict[str, Any]:
    ref = service.get("TaskDefinition", {})
    logical_id = ref.get("Ref") if isinstance(ref, dict) else None
    for found_id, kind, props in _resources(templates):
        if kind == "AWS::ECS::TaskDefinition" and found_id == logical_id:
            return props
    return {}


def _processing_instance(templates: dict[str, dict[str, Any]], env: str) -> str:
    for _, kind, props in _resources(templates):
        if kind == "AWS::MWAA::Environment":
            value = props.get("AirflowConfigurationOptions", {}).get(
                "beacon.processing_instance_type"
            )
            if isinstance(value, str):
                return value
    # No MWAA (the idle state): the instance type the environment config gives the jobs.
    return ENVIRONMENTS[env].processing_instance_type


def render(items: list[LineItem], table: dict[str, Any], env: str) -> str:
    """A plain-text report: one line per item, the total, and the assumptions."""
    lines = [
        f"Beacon {env}: estimated monthly cost in {table['region']} "
        f"(list prices as of {table['as_of']}, {table['currency']})",
        "",
        f"{'resource':<58} {'what':<58} {'USD/month':>10}",
    ]
    for item in sorted(items, key=lambda i: -i.monthly_usd):
        name = f"{item.logical_id} ({item.resource_type})"
        lines.append(f"{name[:58]:<58} {item.detail[:58]:<58} {item.monthly_usd:>10.2f}")
    lines += ["", f"{'TOTAL':<117} {total(items):>10.2f}", "", "Usage assumptions:"]
    for key, value in table["usage"][env].items():
        lines.append(f"  {key} = {value}: {table['usage_notes'].get(key, '')}")
    lines += ["", table["source"]]
    return "\n".join(lines)


def total(items: list[LineItem]) -> float:
    """Sum of the line items."""
    return round(sum(i.monthly_usd for i in items), 2)


def steps(table: dict[str, Any]) -> list[Scale]:
    """Today, each 10x step of the price table (traffic, postings) and both together."""
    found = [TODAY]
    for name, step in table["steps"].items():
        found.append(
            Scale(
                name=f"{name} x{step['factor']}",
                usage_factors=dict(step.get("usage_factors", {})),
                traffic_factor=step["factor"] if name == "traffic" else 1.0,
                rds_class_steps=step.get("rds_class_steps", 0),
                rds_storage_factor=step.get("rds_storage_factor", 1.0),
            )
        )
    if len(found) == 3:
        traffic, postings = found[1], found[2]
        factors = dict(traffic.usage_factors)
        for key, value in postings.usage_factors.items():
            factors[key] = factors.get(key, 1) * value
        found.append(
            Scale(
                name=f"{traffic.name} + {postings.name}",
                usage_factors=factors,
                traffic_factor=traffic.traffic_factor,
                rds_class_steps=traffic.rds_class_steps + postings.rds_class_steps,
                rds_storage_factor=postings.rds_storage_factor,
            )
        )
    return found


def render_steps(
    templates: dict[str, dict[str, Any]], table: dict[str, Any], env: str
) -> tuple[str, list[dict[str, Any]]]:
    """Each step's total next to today's, with the items that change most."""
    rows = []
    base = estimate(templates, table, env)
    base_total = total(base)
    for scale in steps(table):
        items = estimate(templates, table, env, scale)
        before = {(i.logical_id, i.resource_type): i.monthly_usd for i in base}
        movers = sorted(
            ((i.monthly_usd - before.get((i.logical_id, i.resource_type), 0), i) for i in items),
            key=lambda pair: -pair[0],
        )
        drivers = ", ".join(
            f"{i.resource_type.split('::')[-1]} {i.detail} (+{delta:.0f})"
            for delta, i in movers[:3]
            if delta >= 1
        )
        rows.append(
            {
                "step": scale.name,
                "total": total(items),
                "delta": round(total(items) - base_total, 2),
                "drivers": drivers,
            }
        )
    lines = [
        "",
        "",
        f"10x steps for {env} (same list prices; assumptions in infra/prices/*.json 'steps'):",
        f"{'step':<34} {'USD/month':>10} {'vs today':>10}  biggest changes",
    ]
    for row in rows:
        lines.append(
            f"{row['step']:<34} {row['total']:>10.2f} {row['delta']:>+10.2f}  {row['drivers']}"
        )
    for name, step in table["steps"].items():
        lines.append(f"  {name}: {step['note']}")
    return "\n".join(lines), rows


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, choices=["dev", "staging", "prod"])
    parser.add_argument("--templates", type=Path, required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--steps", action="store_true", help="also price each 10x step (traffic, postings)"
    )
    args = parser.parse_args(argv)
    table = load_prices(args.region)
    templates = load_templates(args.templates)
    items = estimate(templates, table, args.env)
    step_text, step_rows = render_steps(templates, table, args.env) if args.steps else ("", [])
    if args.json:
        document: dict[str, Any] = {
            "env": args.env,
            "total": total(items),
            "items": [i.__dict__ for i in items],
        }
        if args.steps:
            document["steps"] = step_rows
        print(json.dumps(document))
    else:
        print(render(items, table, args.env) + step_text)


if __name__ == "__main__":
    main()

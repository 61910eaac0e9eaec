"""Estimates an environment's monthly bill from its synthesized templates and a dated price table.

Run `python -m infra.cost --env dev --templates cdk.out/dev` (or `make cost ENV=dev`).
Only resources that cost money by themselves are priced; usage-driven amounts come from the
`usage` assumptions in the price table, which the output repeats so nobody mistakes them
for measurements.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICES_DIR = Path(__file__).resolve().parent / "prices"


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


def estimate(
    templates: dict[str, dict[str, Any]], table: dict[str, Any], env: str
) -> list[LineItem]:
    """Line items for every cost-bearing resource, plus usage-based items."""
    p = table["prices"]
    hours = table["hours_per_month"]
    usage = table["usage"][env]
    items: list[LineItem] = []

    def add(logical_id: str, kind: str, detail: str, amount: float) -> None:
        items.append(LineItem(logical_id, kind, detail, round(amount, 2)))

    nat_count = 0
    log_groups = 0
    alarms = 0
    for logical_id, kind, props in _resources(templates):
        if kind == "AWS::EC2::NatGateway":
            nat_count += 1
            add(
                logical_id,
                kind,
                "NAT gateway hours + its public IPv4",
                hours * (p["nat_gateway_hour"] + p["public_ipv4_hour"]),
            )
        elif kind == "AWS::EC2::VPCEndpoint" and props.get("VpcEndpointType") == "Interface":
            azs = len(props.get("SubnetIds", [])) or 2
            add(
                logical_id,
                kind,
                f"interface endpoint in {azs} AZs",
                hours * azs * p["interface_endpoint_az_hour"],
            )
        elif kind == "AWS::KMS::Key":
            add(logical_id, kind, "customer-managed key", p["kms_key_month"])
        elif kind == "AWS::SecretsManager::Secret":
            add(logical_id, kind, "secret", p["secret_month"])
        elif kind == "AWS::RDS::DBInstance":
            klass = props.get("DBInstanceClass", "db.t4g.micro")
            multi_az = bool(props.get("MultiAZ"))
            storage = _number(props.get("AllocatedStorage"), 20)
            factor = 2 if multi_az else 1
            compute = hours * p["rds_postgres_hour"][klass] * factor
            disk = storage * p["rds_gp3_gb_month"] * factor
            az = "Multi-AZ" if multi_az else "single-AZ"
            add(logical_id, kind, f"{klass} {az}, {storage:.0f} GiB gp3", compute + disk)
        elif kind == "AWS::Backup::BackupPlan":
            storage = sum(
                _number(r[2].get("AllocatedStorage"), 20)
                for r in _resources(templates)
                if r[1] == "AWS::RDS::DBInstance"
            )
            add(
                logical_id,
                kind,
                f"~{storage:.0f} GB of RDS backups in the vault",
                storage * p["backup_rds_gb_month"],
            )
        elif kind == "AWS::ECS::Service":
            task = _task_definition(templates, props)
            cpu = _number(task.get("Cpu"), 1024) / 1024
            memory = _number(task.get("Memory"), 2048) / 1024
            count = _number(props.get("DesiredCount"), 1)
            per_task = hours * (cpu * p["fargate_vcpu_hour"] + memory * p["fargate_gb_hour"])
            add(
                logical_id,
                kind,
                f"{count:.0f} x Fargate {cpu:g} vCPU / {memory:g} GB (min tasks)",
                count * per_task,
            )
        elif kind == "AWS::ECS::Cluster":
            add(
                logical_id,
                kind,
                "Container Insights metrics",
                p["container_insights_month_per_service"],
            )
        elif kind == "AWS::ElasticLoadBalancingV2::LoadBalancer":
            add(logical_id, kind, "ALB hours + 1 LCU", hours * (p["alb_hour"] + p["alb_lcu_hour"]))
        elif kind == "AWS::ApiGateway::RestApi":
            add(
                logical_id,
                kind,
                f"{usage['api_million']}M REST requests",
                usage["api_million"] * p["apigw_rest_million"],
            )
        elif kind == "AWS::WAFv2::WebACL":
            rules = len(props.get("Rules", []))
            amount = (
                p["waf_web_acl_month"]
                + rules * p["waf_rule_month"]
                + usage["api_million"] * p["waf_million"]
            )
            add(
                logical_id,
                kind,
                f"web ACL, {rules} rule groups, {usage['api_million']}M requests",
                amount,
            )
        elif kind == "AWS::MWAA::Environment":
            klass = props.get("EnvironmentClass", "mw1.small")
            workers = _number(props.get("MinWorkers"), 1)
            amount = hours * (
                p["mwaa_environment_hour"][klass]
                + max(0, workers - 1) * p["mwaa_worker_hour"][klass]
            )
            add(
                logical_id,
                kind,
                f"{klass}, {workers:.0f} min workers, Airflow {props.get('AirflowVersion')}",
                amount + p["mwaa_metadb_gb_month"] * 10,
            )
        elif kind == "AWS::SageMaker::MlflowApp":
            add(
                logical_id,
                kind,
                "serverless MLflow app (artifacts billed as S3)",
                p["mlflow_app_month"],
            )
        elif kind == "AWS::CloudWatch::Dashboard":
            add(logical_id, kind, "dashboard", p["cloudwatch_dashboard_month"])
        elif kind == "AWS::CloudWatch::Alarm":
            alarms += 1
        elif kind == "AWS::Logs::LogGroup":
            log_groups += 1
    if alarms:
        add(
            "(alarms)",
            "AWS::CloudWatch::Alarm",
            f"{alarms} standard alarms",
            alarms * p["cloudwatch_alarm_month"],
        )
    add(
        "(usage)",
        "NAT data",
        f"{usage['nat_gb']} GB processed",
        usage["nat_gb"] * p["nat_gateway_gb"] if nat_count else 0,
    )
    add(
        "(usage)",
        "Endpoint data",
        f"{usage['endpoint_gb']} GB",
        usage["endpoint_gb"] * p["interface_endpoint_gb"],
    )
    log_gb = usage["log_gb"]
    add(
        "(usage)",
        "CloudWatch Logs",
        f"{log_gb} GB ingested+stored in {log_groups} groups",
        log_gb * (p["logs_ingest_gb"] + p["logs_storage_gb_month"]),
    )
    add(
        "(usage)", "S3", f"{usage['s3_gb']} GB standard", usage["s3_gb"] * p["s3_standard_gb_month"]
    )
    add(
        "(usage)",
        "Lambda",
        f"{usage['lambda_gb_seconds']} GB-s",
        usage["lambda_gb_seconds"] * p["lambda_gb_second"],
    )
    klass = _processing_instance(templates)
    add(
        "(usage)",
        "SageMaker Processing",
        f"{usage['processing_hours']} h of {klass}",
        usage["processing_hours"] * p["sagemaker_processing_hour"].get(klass, 0.115),
    )
    add("(usage)", "ECR", f"{usage['ecr_gb']} GB of images", usage["ecr_gb"] * p["ecr_gb_month"])
    add(
        "(usage)",
        "CloudWatch metrics",
        f"{usage['custom_metrics']} custom metrics",
        usage["custom_metrics"] * p["cloudwatch_custom_metric_month"],
    )
    return items


def _task_definition(
    templates: dict[str, dict[str, Any]], service: dict[str, Any]
) -> dict[str, Any]:
    ref = service.get("TaskDefinition", {})
    logical_id = ref.get("Ref") if isinstance(ref, dict) else None
    for found_id, kind, props in _resources(templates):
        if kind == "AWS::ECS::TaskDefinition" and found_id == logical_id:
            return props
    return {}


def _processing_instance(templates: dict[str, dict[str, Any]]) -> str:
    for _, kind, props in _resources(templates):
        if kind == "AWS::MWAA::Environment":
            value = props.get("AirflowConfigurationOptions", {}).get(
                "beacon.processing_instance_type"
            )
            if isinstance(value, str):
                return value
    return "ml.m5.large"


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


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, choices=["dev", "staging", "prod"])
    parser.add_argument("--templates", type=Path, required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    table = load_prices(args.region)
    items = estimate(load_templates(args.templates), table, args.env)
    if args.json:
        print(
            json.dumps(
                {"env": args.env, "total": total(items), "items": [i.__dict__ for i in items]}
            )
        )
    else:
        print(render(items, table, args.env))


if __name__ == "__main__":
    main()

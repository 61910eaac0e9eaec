"""Grafana dashboard: provisioned by compose, every panel's PromQL parsed by Prometheus, and
every Beacon metric it (or an alert) reads is one Beacon really exports."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.serving.metrics import Metrics
from services.serving.ops_metrics import OpsCollector
from tests.observability.obs_support import DASHBOARDS, OBSERVABILITY, ROOT, RULES, binary

DASHBOARD = DASHBOARDS / "beacon.json"
#: Grafana's interval variables, replaced by what Prometheus would receive.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
BEACON_METRIC = re.compile(r"\bbeacon[_:][A-Za-z0-9_:]*")


def dashboard_panels() -> list[dict[str, Any]]:
    """Every panel with queries (rows excluded)."""
    document = json.loads(DASHBOARD.read_text())
    return [p for p in document["panels"] if p["type"] != "row"]


def panel_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL with Grafana variables substituted) of every query."""
    queries = []
    for panel in dashboard_panels():
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            queries.append((panel["title"], expr))
    return queries


def _check_as_rules(queries: list[tuple[str, str]], path: Path) -> subprocess.CompletedProcess:
    # promtool has no "parse this expression" command; a recording rule per query makes
    # `promtool check rules` run each through Prometheus' own PromQL parser.
    rules = [
        {"record": f"dashboard:query_{i}", "expr": expr} for i, (_, expr) in enumerate(queries)
    ]
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    return subprocess.run(
        [binary("promtool"), "check", "rules", str(path)], capture_output=True, text=True
    )


def test_dashboard_is_provisioned_from_prometheus() -> None:
    document = json.loads(DASHBOARD.read_text())
    assert document["uid"] == "beacon-overview"
    datasource = yaml.safe_load(
        (OBSERVABILITY / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"][0]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    for panel in dashboard_panels():
        assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]
        assert panel["targets"], panel["title"]
    provider = yaml.safe_load(
        (OBSERVABILITY / "grafana/provisioning/dashboards/beacon.yml").read_text()
    )["providers"][0]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    grafana = compose["services"]["grafana"]["volumes"]
    assert f"./observability/grafana/dashboards:{provider['options']['path']}:ro" in grafana
    assert "./observability/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana
    prometheus = compose["services"]["prometheus"]["volumes"]
    assert "./observability/prometheus/rules:/etc/prometheus/rules:ro" in prometheus
    panels = {p["id"] for p in json.loads(DASHBOARD.read_text())["panels"]}
    assert len(panels) == len(json.loads(DASHBOARD.read_text())["panels"])  # unique ids


def test_every_panel_query_parses(tmp_path: Path) -> None:
    queries = panel_queries()
    assert len(queries) >= 20
    result = _check_as_rules(queries, tmp_path / "dashboard.rules.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_query_would_be_caught(tmp_path: Path) -> None:
    broken = [("broken", "sum by (route (rate(beacon_http_requests_total[5m]))")]
    assert _check_as_rules(broken, tmp_path / "broken.rules.yml").returncode != 0


def exported_metric_names() -> set[str]:
    """Sample names the API's registry can expose, the drift job's gauges and recorded rules."""
    from services.drift.emit import prometheus_text
    from services.serving.context import ServingContext
    from services.serving.settings import ServingSettings

    metrics = Metrics(lambda: None)
    context = ServingContext(settings=ServingSettings(), metrics=metrics)
    metrics.registry.register(OpsCollector(context, "/nonexistent/reports", "/nonexistent"))
    names: set[str] = set()
    for family in metrics.registry.collect():
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
        names |= {family.name + s for s in suffixes.get(family.type, ("",))}
    # The drift job's gauges, under the names its CloudWatch metrics map to.
    cloudwatch = ["DriftShareOfDriftedColumns", "PredictionDriftScore", "ModelRocAuc"]
    text = prometheus_text(
        dict.fromkeys([*cloudwatch, "ModelRocAucReference"], 0.0), workload="w", model_version="1"
    )
    names |= {line.split("{")[0] for line in text.splitlines() if not line.startswith("#")}
    groups = yaml.safe_load(RULES.read_text())["groups"]
    names |= {r["record"] for g in groups for r in g["rules"] if "record" in r}
    return names


@pytest.mark.parametrize("source", ["dashboard", "rules"])
def test_queries_read_metrics_beacon_exports(source: str) -> None:
    if source == "dashboard":
        text = " ".join(expr for _, expr in panel_queries())
    else:
        groups = yaml.safe_load(RULES.read_text())["groups"]
        text = " ".join(r["expr"] for g in groups for r in g["rules"])
    used = set(BEACON_METRIC.findall(text))
    missing = sorted(used - exported_metric_names())
    assert not missing, f"{source} reads metrics nothing exports: {missing}"

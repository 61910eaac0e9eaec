"""Prometheus/Grafana and CloudWatch answer the same questions (observability/parity.yml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from infra_support import BuiltEnvironment

OBSERVABILITY = Path(__file__).resolve().parents[2] / "observability"
PARITY = OBSERVABILITY / "parity.yml"


def _signals() -> list[dict[str, Any]]:
    return yaml.safe_load(PARITY.read_text())["signals"]


def _mapped(side: str, kind: str) -> set[str]:
    return {item for s in _signals() for item in (s.get(side) or {}).get(kind, [])}


def _prometheus_alerts() -> set[str]:
    groups = yaml.safe_load((OBSERVABILITY / "prometheus/rules/beacon.rules.yml").read_text())
    return {r["alert"] for g in groups["groups"] for r in g["rules"] if "alert" in r}


def _grafana_panels() -> set[str]:
    document = json.loads((OBSERVABILITY / "grafana/dashboards/beacon.json").read_text())
    return {p["title"] for p in document["panels"] if p["type"] != "row"}


def _cloudwatch_alarms(env: BuiltEnvironment) -> set[str]:
    prefix = f"beacon-{env.name}-"
    return {
        r["Properties"]["AlarmName"].removeprefix(prefix)
        for r in env.resources("AWS::CloudWatch::Alarm", "Observability").values()
    }


def _cloudwatch_widgets(env: BuiltEnvironment) -> set[str]:
    [dashboard] = env.resources("AWS::CloudWatch::Dashboard", "Observability").values()
    # The body is a Fn::Join of JSON fragments around tokens; the titles sit in the literals.
    body = "".join(
        p for p in dashboard["Properties"]["DashboardBody"]["Fn::Join"][1] if isinstance(p, str)
    )
    return {chunk.split('"', 1)[0] for chunk in body.split('"title":"')[1:]}


def test_every_signal_is_on_both_sides_or_a_stated_gap() -> None:
    for signal in _signals():
        gaps = signal.get("gaps") or {}
        for side in ("prometheus", "cloudwatch"):
            if not signal.get(side):
                assert gaps.get(side), f"{signal['signal']}: nothing on {side} and no gap reason"


def test_mapped_prometheus_items_exist_and_every_one_is_mapped() -> None:
    alerts, panels = _prometheus_alerts(), _grafana_panels()
    assert _mapped("prometheus", "alerts") <= alerts, _mapped("prometheus", "alerts") - alerts
    assert _mapped("prometheus", "panels") <= panels, _mapped("prometheus", "panels") - panels
    assert alerts - _mapped("prometheus", "alerts") == set(), "alerts missing from parity.yml"
    assert panels - _mapped("prometheus", "panels") == set(), "panels missing from parity.yml"


def test_mapped_cloudwatch_items_exist_and_every_alarm_is_mapped(prod: BuiltEnvironment) -> None:
    alarms, widgets = _cloudwatch_alarms(prod), _cloudwatch_widgets(prod)
    assert "Api5xx" in alarms and "API latency (ms)" in widgets  # the readers work
    mapped_alarms, mapped_widgets = (
        _mapped("cloudwatch", "alarms"),
        _mapped("cloudwatch", "widgets"),
    )
    assert mapped_alarms <= alarms, f"not in the prod template: {mapped_alarms - alarms}"
    assert mapped_widgets <= widgets, f"not on the prod dashboard: {mapped_widgets - widgets}"
    unmapped = alarms - mapped_alarms
    assert not unmapped, f"CloudWatch alarms missing from observability/parity.yml: {unmapped}"

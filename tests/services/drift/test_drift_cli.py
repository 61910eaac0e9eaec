"""`beacon drift check` end to end: exit codes, report files, Prometheus and EMF metrics."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app

runner = CliRunner()


def _env(settings, **extra: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        k: v for k, v in os.environ.items() if not k.startswith("BEACON_")
    }
    env["MLFLOW_TRACKING_URI"] = None  # unset: the store under BEACON_HOME
    env.update(
        {
            "DATABASE_URL": settings.database_url.get_secret_value(),
            "BEACON_HOME": str(settings.home),
            "BEACON_LOG_FORMAT": "text",
            "BEACON_LOG_LEVEL": "WARNING",
            "BEACON_READMISSION_ROWS": str(settings.readmission_rows),
        }
    )
    env.update(extra)
    return env


def validate_emf(document: dict) -> list[str]:
    """Problems with an Embedded Metric Format document (the AWS specification's rules)."""
    problems = []
    meta = document.get("_aws")
    if not isinstance(meta, dict):
        return ["_aws missing"]
    if not isinstance(meta.get("Timestamp"), int) or meta["Timestamp"] < 10**12:
        problems.append("_aws.Timestamp must be epoch milliseconds")
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return [*problems, "_aws.CloudWatchMetrics must be a non-empty list"]
    for directive in directives:
        namespace = directive.get("Namespace")
        if not isinstance(namespace, str) or not 1 <= len(namespace) <= 255:
            problems.append("Namespace must be a string of 1-255 characters")
        for dimension_set in directive.get("Dimensions", []):
            if len(dimension_set) > 30:
                problems.append("a dimension set has more than 30 dimensions")
            for key in dimension_set:
                if not isinstance(document.get(key), str):
                    problems.append(f"dimension {key} has no string value at the top level")
        metrics = directive.get("Metrics", [])
        if not 1 <= len(metrics) <= 100:
            problems.append("Metrics must hold 1-100 definitions")
        for metric in metrics:
            value = document.get(metric.get("Name"))
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, int | float) for v in values):
                problems.append(f"metric {metric.get('Name')} has no numeric value")
            if "Unit" in metric and not isinstance(metric["Unit"], str):
                problems.append(f"metric {metric['Name']} unit is not a string")
    return problems


def test_check_writes_reports_and_fails_on_drift(drift_settings, champion, tmp_path: Path):
    out = tmp_path / "drifted"
    env = _env(drift_settings, BEACON_DRIFT_SCENARIO="default")
    result = runner.invoke(app, ["drift", "check", "--batch", "8", "--out", str(out)], env=env)
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output and "retraining recommended" in result.output

    summary = json.loads((out / "summary.json").read_text())
    assert summary["drift_detected"] is True and summary["retrain_recommended"] is True
    assert summary["model"] == {"name": "readmission", "version": champion.version}
    assert "age" in summary["drifted_columns"]
    assert summary["rows"]["current"] == 2000
    html = (out / "report.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html") or "<html" in html[:500].lower()
    assert len(html) > 10_000  # Evidently's page carries the charts

    prom = (out / "metrics.prom").read_text()
    line = next(ln for ln in prom.splitlines() if ln.startswith("beacon_drift_detected{"))
    assert line.endswith(" 1.0") and 'workload="readmission"' in line

    [emf_text] = (out / "metrics.emf.jsonl").read_text().splitlines()
    document = json.loads(emf_text)
    assert validate_emf(document) == []
    directive = document["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Beacon/local"
    assert directive["Dimensions"] == [["Workload"]]  # what the dashboard searches
    names = {m["Name"] for m in directive["Metrics"]}
    assert {"DriftShareOfDriftedColumns", "ModelRocAuc"} <= names
    [share] = document["DriftShareOfDriftedColumns"]
    assert share == pytest.approx(summary["share_of_drifted_columns"], abs=1e-6)


def test_clean_batch_exits_zero(drift_settings, champion, tmp_path: Path):
    env = _env(drift_settings, BEACON_DRIFT_SCENARIO="none")
    out = tmp_path / "clean"
    result = runner.invoke(app, ["drift", "check", "--batch", "1", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "summary.json").read_text())["retrain_recommended"] is False
    assert "result: no drift" in result.output


def test_exit_zero_and_default_report_folder(drift_settings, champion):
    env = _env(drift_settings, BEACON_DRIFT_SCENARIO="default")
    result = runner.invoke(app, ["drift", "check", "--batch", "7", "--exit-zero"], env=env)
    assert result.exit_code == 0, result.output
    folder = Path(drift_settings.home) / "storage/reports/drift/readmission/batch-7"
    assert json.loads((folder / "summary.json").read_text())["drift_detected"] is True


def test_a_day_without_a_batch_file_is_quiet(drift_settings, tmp_path: Path):
    """As `embed refresh --missing-ok`: no file, no failure, and no reason to retrain."""
    out = tmp_path / "quiet"
    missing = str(tmp_path / "incoming" / "dt=2026-11-25" / "encounters.csv")
    args = ["drift", "check", "--data", missing, "--missing-ok", "--out", str(out)]
    result = runner.invoke(app, args, env=_env(drift_settings))
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["skipped"] is True and summary["retrain_recommended"] is False
    assert "a quiet day" in summary["reasons"][0] and "quiet day" in result.output
    failed = runner.invoke(app, args[:4], env=_env(drift_settings))  # without --missing-ok
    assert failed.exit_code == 2 and "file not found" in failed.output


def test_emf_validator_catches_broken_documents():
    good = {
        "_aws": {
            "Timestamp": 1_700_000_000_000,
            "CloudWatchMetrics": [
                {"Namespace": "N", "Dimensions": [["W"]], "Metrics": [{"Name": "M"}]}
            ],
        },
        "W": "x",
        "M": [1.0],
    }
    assert validate_emf(good) == []
    assert validate_emf({**good, "M": "high"}) == ["metric M has no numeric value"]
    assert validate_emf({k: v for k, v in good.items() if k != "W"}) == [
        "dimension W has no string value at the top level"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["drift", "check"], "exactly one of --batch N, --data FILE or --live"),
        (["drift", "check", "--batch", "2", "--live"], "exactly one of"),
        (["drift", "check", "--batch", "99"], "--batch must be between 1 and 8"),
        (["drift", "check", "--live", "--since", "yesterday"], "--since"),
        (["drift", "check", "--live", "--until", "last week"], "--until: expected an ISO 8601"),
        (["drift", "check", "--data", "/no/such.csv"], "file not found: /no/such.csv"),
        (["drift", "check", "--model", "nope", "--batch", "1"], "has no 'champion' version"),
        (["drift", "check", "--batch", "1", "--missing-ok"], "--missing-ok only applies with"),
        (["simulate", "--control"], "--control and --ids-mapping only apply with --data"),
        (["simulate", "--data", "/no/such.csv"], "/no/such.csv: no such file"),
        (["simulate", "--data", "x.csv", "--scenario", "none"], "--scenario and --rows apply"),
    ],
)
def test_bad_input_exits_2_with_a_message(drift_settings, champion, args, message):
    result = runner.invoke(app, args, env=_env(drift_settings))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output

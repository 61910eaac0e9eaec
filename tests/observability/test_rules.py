"""Prometheus rules: valid for promtool, and each alert's unit tests fire and stay quiet."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.observability.obs_support import RULE_TESTS, RULES, alerting_rules, binary


def _promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary("promtool"), *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def test_rules_pass_promtool_check() -> None:
    result = _promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_is_labelled_for_routing_and_explained() -> None:
    for rule in alerting_rules():
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        assert rule["labels"]["area"] in {"api", "models", "drift", "refresh", "experiments"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_every_alert_has_a_unit_test_that_fires_it() -> None:
    fired: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    fired.add(check["alertname"])
    assert {rule["alert"] for rule in alerting_rules()} == fired


def test_rule_unit_tests_pass() -> None:
    for path in RULE_TESTS:
        result = _promtool("test", "rules", path.name, cwd=path.parent)
        assert result.returncode == 0, f"{path.name}:\n{result.stdout}{result.stderr}"


def test_unit_tests_catch_a_wrong_threshold(tmp_path: Path) -> None:
    """The tests can fail: a drift gate loosened from 10 % to 50 % breaks them."""
    rules = tmp_path / "rules" / "beacon.rules.yml"
    rules.parent.mkdir()
    text = RULES.read_text()
    loosened = re.sub(
        r"beacon_drift_share_of_drifted_columns > 0\.1\b",
        "beacon_drift_share_of_drifted_columns > 0.5",
        text,
    )
    assert loosened != text
    rules.write_text(loosened)
    suite = tmp_path / "tests" / "beacon.test.yml"
    suite.parent.mkdir()
    suite.write_text((RULE_TESTS[0].parent / "beacon.test.yml").read_text())
    result = _promtool("test", "rules", suite.name, cwd=suite.parent)
    assert result.returncode != 0
    assert "BeaconDataDrift" in result.stdout + result.stderr

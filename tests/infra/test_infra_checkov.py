"""checkov (its own venv, `make checkov-venv`) over every synthesized environment: no finding
without a reason in infra/checkov_skips.py, and no reason left that matches nothing."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import pytest
from infra_support import ENVIRONMENTS, BuiltEnvironment, build, example_config

from infra.checkov_skips import SKIPS, scan, skip_for

REPO = Path(__file__).resolve().parents[2]
CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def checkov() -> Path:
    """The checkov CLI, created with the Makefile's recipe if missing."""
    if not (CHECKOV.parent.parent / ".installed").exists():
        subprocess.run(
            ["make", "--no-print-directory", "checkov-venv"],
            cwd=REPO,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return CHECKOV


def switches_on() -> Any:
    """prod with every optional switch on: read replica, RDS Proxy, Studio domain."""
    base = example_config("prod")
    return dataclasses.replace(
        base,
        studio_domain=True,
        database=dataclasses.replace(base.database, read_replica=True, proxy=True),
    )


@pytest.fixture(scope="module")
def scans(
    checkov: Path, built: dict[str, BuiltEnvironment], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict]:
    # One checkov run over the three environments: its start-up dominates the cost. The
    # switches are off by default, so prod with them on is scanned too (their data stack only).
    switches = build("prod", tmp_path_factory.mktemp("switches"), switches_on())
    changed = tmp_path_factory.mktemp("switches-changed")
    for stack in ("Data", "Ml"):
        name = f"Beacon-prod-{stack}.template.json"
        (changed / name).write_text((switches.outdir / name).read_text())
    return {
        "all": scan(checkov, *(built[name].outdir for name in ENVIRONMENTS)),
        "switches": scan(checkov, changed),
    }


@pytest.mark.slow
def test_checkov_finds_nothing_unexplained(scans: dict[str, dict]) -> None:
    result = scans["all"]
    passed = int(result["passed"][0]["count"])
    assert passed > 300 * len(ENVIRONMENTS), "checkov scanned too little to mean anything"
    assert result["unexplained"] == []
    assert scans["switches"]["unexplained"] == []


@pytest.mark.slow
def test_every_skip_is_used_and_explained(scans: dict[str, dict]) -> None:
    used = {
        skip
        for result in scans.values()
        for row in result["accepted"]
        if (skip := skip_for(row["check"], row["resource"]))
    }
    # Each CDK-handler skip covers checks that appear only in some environments.
    unused = [s for s in SKIPS if s not in used and "CustomS3AutoDelete" not in s.resource]
    assert unused == [], "skips that match no finding: remove them"
    assert all(len(s.reason) > 40 for s in SKIPS)


def test_a_real_finding_is_not_swallowed() -> None:
    assert skip_for("CKV_AWS_20", "AWS::S3::Bucket.DataBucket") is None
    assert skip_for("CKV_AWS_18", "AWS::S3::Bucket.BucketsData") is None
    assert skip_for("CKV_AWS_18", "AWS::S3::Bucket.BucketsLogsF3E46FAF") is not None

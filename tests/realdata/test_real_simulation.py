"""`beacon simulate --data` on the real file: the seeds' loop, and its shuffled-time control.

An honest, cheap sample: the oldest 30,000 encounters, in their time order. The oldest 34 %
of them (all before payer codes appear in the file) train the first model; two batches of
about 10,000 encounters follow. The full-size run is measured in docs/readmission-real-data.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from services.training.readmission_io import load_readmission_csv, write_readmission_csv
from tests.helpers import cli_env

runner = CliRunner()


@pytest.fixture(scope="module")
def oldest_sample(real_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = load_readmission_csv(real_zip).head(30_000)
    return write_readmission_csv(frame, tmp_path_factory.mktemp("sample") / "oldest.csv")


@pytest.mark.parametrize("control", [False, True], ids=["time-order", "control"])
def test_simulate_walks_real_batches(
    oldest_sample: Path, database_url: str, real_home: Path, control: bool
) -> None:
    env = cli_env(
        database_url,
        real_home,
        BEACON_SIMULATE_FAMILIES="logreg",
        BEACON_SIMULATE_TRIALS="2",
    )
    args = ["simulate", "--data", str(oldest_sample), "--initial-share", "0.34", "--batches", "2"]
    result = runner.invoke(app, args + (["--control"] if control else []), env=env)
    assert result.exit_code == 0, result.output[-3000:]
    name = "file-oldest" + ("-control" if control else "")
    root = real_home / "storage" / "reports" / "simulation" / name
    record = json.loads((root / "timeline.json").read_text())
    assert record["scenario"] == name and len(record["steps"]) == 2
    for step in record["steps"]:
        assert 0.55 < step["roc_auc_served"] < 0.8
        assert 0.55 < step["roc_auc_never_retrained"] < 0.8
        assert step["decision"] and set(step["gates"]) >= {"data drift", "concept drift"}
        assert "roc_auc_drop_lower_bound" in step["concept"]
    assert (root / "timeline.png").stat().st_size > 10_000
    assert (root / "batch-1" / "summary.json").is_file()
    if control:
        # The same population throughout: at most one (false) alarm may retrain.
        assert len(record["retrain_batches"]) <= 1, record["steps"]
        assert "feature 'payer_code' left out" not in result.output
    else:
        assert "feature 'payer_code' left out: missing in all" in result.output
    assert "mean ROC AUC from batch" in result.output

"""The readmission EDA notebook runs top to bottom on the real file and draws its figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIGURES = (
    "readmission-eda-overview.png",
    "readmission-eda-shift.png",
    "readmission-eda-baseline.png",
)


def test_the_eda_notebook_runs_on_the_real_file(real_zip: Path, tmp_path: Path) -> None:
    notebook = ROOT / "notebooks" / "readmission_eda.py"
    assert notebook.read_text().count("# %%") >= 8  # cells, not one long script
    done = subprocess.run(
        [sys.executable, str(notebook), str(real_zip), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "101766 encounters" in done.stdout
    baseline = float(done.stdout.split("baseline test ROC AUC ")[1].split(";")[0])
    assert 0.62 < baseline < 0.75
    for name in FIGURES:
        assert (tmp_path / name).stat().st_size > 10_000, name

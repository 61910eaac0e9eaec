"""The README's readmission commands on the real file: load, validate, train, gate, promote."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from services.core.errors import InputError
from services.training.readmission_io import load_readmission_csv
from tests.helpers import cli_env

runner = CliRunner()


def test_the_zip_and_the_extracted_files_load_the_same(real_zip: Path, real_csvs) -> None:
    data, mapping = real_csvs
    from_zip = load_readmission_csv(real_zip)  # checks codes against the zip's IDs_mapping
    from_csv = load_readmission_csv(data, mapping)
    assert len(from_zip) == 101_766 and from_zip.equals(from_csv)
    assert from_zip["encounter_id"].is_monotonic_increasing
    with pytest.raises(InputError, match=r"no diabetic_data\.csv in the zip"):
        load_readmission_csv(_zip_without_data(real_zip, data.parent.parent))


def _zip_without_data(real_zip: Path, folder: Path) -> Path:
    import zipfile

    path = folder / "mapping-only.zip"
    with zipfile.ZipFile(real_zip) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            if name.endswith("IDs_mapping.csv"):
                target.writestr(name, source.read(name))
    return path


def test_train_readmission_on_the_real_file_passes_the_gates(
    real_csvs, database_url: str, real_home: Path
) -> None:
    """The README command, unchanged, with few trials: exit 0, payer_code left out."""
    data, mapping = real_csvs
    env = cli_env(database_url, real_home, BEACON_HPO_SAMPLE_ROWS="6000")
    args = ["train", "readmission", "--data", str(data), "--ids-mapping", str(mapping)]
    result = runner.invoke(app, [*args, "--trials", "2", "--families", "logreg"], env=env)
    assert result.exit_code == 0, result.output[-3000:]
    out = result.output
    assert "feature 'payer_code' left out: missing in all" in out
    assert "[PASS] data validation" in out and "not checked: " in out
    assert "promoted version 1 to champion" in out
    summary = out.split("LogisticRegression")[-1]  # the summary line
    test_auc = float(summary.split()[0])
    assert 0.62 < test_auc < 0.75, out[-1500:]
    # With it, the 95 % interval a 3,000-row test split allows (about +-0.03).
    low, high = map(float, summary.split("[95 % CI ")[1].split("]")[0].split("-"))
    assert low < test_auc < high and 0.04 < high - low < 0.09, summary[:200]

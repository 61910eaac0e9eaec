"""The real-data tier: the public Diabetes 130-US file from ../shared/data, when it is there."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

#: Beside the clone, as on the team's machines and in CI (see ../shared/data/*/README.md).
REAL_ZIP = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "diabetes-130-us"
    / "dataset_diabetes.zip"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.realdata)


@pytest.fixture(scope="session")
def real_zip() -> Path:
    """The UCI zip as downloaded; the tier skips, saying why, when it is absent."""
    if not REAL_ZIP.is_file():
        pytest.skip(f"real-data tier: {REAL_ZIP} not found (see docs/readmission-real-data.md)")
    return REAL_ZIP


@pytest.fixture(scope="session")
def real_csvs(real_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """diabetic_data.csv and IDs_mapping.csv, unzipped into a temporary folder."""
    folder = tmp_path_factory.mktemp("diabetes-130-us")
    with zipfile.ZipFile(real_zip) as archive:
        archive.extractall(folder)
    data = next(folder.rglob("diabetic_data.csv"))
    return data, next(folder.rglob("IDs_mapping.csv"))


@pytest.fixture
def real_home(tmp_path: Path) -> Iterator[Path]:
    """A Beacon home for one real-data test."""
    yield tmp_path / "home"

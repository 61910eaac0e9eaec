"""CLI choices are enums: `--help` lists them, and they match the names the code accepts."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from services.cli import app
from services.drift.cli import Scenario
from services.jobs.cli import DocumentKind, LayoutChoice
from services.jobs.exports import LAYOUT_NAMES
from services.training.cli import Stage
from services.training.drift_scenarios import SCENARIOS
from services.training.train import STAGES

runner = CliRunner()


def test_enums_match_what_the_code_accepts() -> None:
    assert [s.value for s in Stage] == list(STAGES)
    assert {s.value for s in Scenario} == set(SCENARIOS)
    assert [k.value for k in LayoutChoice] == ["auto", *LAYOUT_NAMES]
    assert [k.value for k in DocumentKind] == ["postings", "resumes"]


def _help(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "400", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return re.sub(r"\s+", " ", result.output)


@pytest.mark.parametrize(
    ("command", "choices"),
    [
        (("data", "load"), "postings|resumes"),
        (("data", "load"), "auto|beacon|glassdoor|job-board|resume-category"),
        (("train", "readmission"), "validate|train|register"),
        (("simulate",), "default|none"),
    ],
)
def test_help_lists_the_choices(command: tuple[str, ...], choices: str) -> None:
    assert choices in _help(*command)


def test_a_wrong_choice_is_refused_naming_the_option() -> None:
    result = runner.invoke(app, ["data", "load", "x.csv", "--kind", "people"])
    assert result.exit_code == 2
    assert "--kind" in result.output and "people" in result.output


def test_embed_refresh_names_the_registered_kinds_and_refuses_others() -> None:
    assert "registers postings and resumes" in _help("embed", "refresh")
    result = runner.invoke(app, ["embed", "refresh", "--kind", "people"])
    assert result.exit_code == 2
    assert "--kind" in result.output and "people" in result.output
    assert "postings" in result.output

"""bench/suite_breakdown.py: sums a junit report per tier, folder and test; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.suite_breakdown import main, read_cases

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="tests.services.jobs.test_search" name="test_fast" time="0.5">
  <properties><property name="tier" value="unit"/></properties></testcase>
<testcase classname="tests.services.jobs.test_search.TestGroup" name="test_slow[a]" time="7.0">
  <properties><property name="tier" value="integration"/></properties>
  <failure message="boom"/></testcase>
<testcase classname="tests.infra.test_synth" name="test_old" time="2.5"/>
</testsuite></testsuites>
"""


def test_cases_carry_their_file_tier_and_outcome(tmp_path: Path) -> None:
    report = tmp_path / "suite.xml"
    report.write_text(REPORT)
    cases = read_cases(report)
    assert [(c.nodeid, c.tier, c.outcome) for c in cases] == [
        ("tests/services/jobs/test_search.py::test_fast", "unit", "passed"),
        ("tests/services/jobs/test_search.py::TestGroup::test_slow[a]", "integration", "failure"),
        ("tests/infra/test_synth.py::test_old", "untiered", "passed"),
    ]


def test_the_breakdown_sums_per_tier_and_folder(tmp_path: Path, capsys) -> None:
    report = tmp_path / "suite.xml"
    report.write_text(REPORT)
    assert main([str(report), "--depth", "2", "--before", str(report)]) == 0
    out = capsys.readouterr().out
    assert "3 tests, 10.0 s in tests" in out
    assert "     7.0  70.0%      1  integration" in out
    assert "     7.5  75.0%      2  tests/services" in out
    assert "total in tests: 10.0 s -> 10.0 s" in out


def test_a_missing_or_broken_report_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="junit report not found"):
        main([str(tmp_path / "absent.xml")])
    broken = tmp_path / "broken.xml"
    broken.write_text("<testsuites>")
    with pytest.raises(SystemExit, match="is not a junit xml file"):
        main([str(broken)])

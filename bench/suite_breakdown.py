"""Where the test suite's time goes: seconds per tier, per folder and per test from a junit xml.

    .venv/bin/python -m pytest --junitxml=/tmp/suite.xml ...
    .venv/bin/python -m bench.suite_breakdown /tmp/suite.xml [--depth 3] [--top 25]
    .venv/bin/python -m bench.suite_breakdown /tmp/after.xml --before /tmp/before.xml

The tier comes from the `tier` property tests/tiers.py writes into each test case; a report
written before tiers existed counts as `untiered`. A test's time is setup + call + teardown
(pytest's junit default), so session fixtures are charged to the first test that uses them.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    """One test case of a junit report."""

    nodeid: str
    path: str
    seconds: float
    tier: str
    outcome: str


def _nodeid(classname: str, name: str) -> tuple[str, str]:
    # junit classname is the dotted module path plus any class: tests.services.x.test_y.TestZ
    parts = classname.split(".")
    module_end = max((i for i, part in enumerate(parts) if part.startswith("test")), default=0)
    path = "/".join(parts[: module_end + 1]) + ".py"
    return f"{path}::{'::'.join([*parts[module_end + 1 :], name])}", path


def read_cases(report: Path) -> list[Case]:
    """Every test case of a junit xml file."""
    if not report.is_file():
        raise SystemExit(f"junit report not found: {report}")
    try:
        root = ET.parse(report).getroot()
    except ET.ParseError as error:
        raise SystemExit(f"{report} is not a junit xml file: {error}") from None
    cases = []
    for case in root.iter("testcase"):
        nodeid, path = _nodeid(case.get("classname", ""), case.get("name", ""))
        tier = "untiered"
        for prop in case.iter("property"):
            if prop.get("name") == "tier":
                tier = prop.get("value", tier)
        outcome = "passed"
        for kind in ("failure", "error", "skipped"):
            if case.find(kind) is not None:
                outcome = kind
        cases.append(Case(nodeid, path, float(case.get("time", 0) or 0), tier, outcome))
    return cases


def _table(title: str, totals: dict[str, list[float]], wall: float, limit: int | None) -> None:
    print(f"\n{title}")
    print(f"  {'seconds':>8} {'share':>6} {'tests':>6}  name")
    ranked = sorted(totals.items(), key=lambda kv: -sum(kv[1]))
    for name, times in ranked[:limit]:
        seconds = sum(times)
        print(f"  {seconds:8.1f} {seconds / wall:6.1%} {len(times):6d}  {name}")


def breakdown(cases: list[Case], depth: int, top: int) -> None:
    """Print seconds per tier, per folder (first `depth` path parts) and the slowest tests."""
    wall = sum(case.seconds for case in cases) or 1.0
    print(f"{len(cases)} tests, {wall:.1f} s in tests (collection and start-up not included)")
    tiers: dict[str, list[float]] = defaultdict(list)
    folders: dict[str, list[float]] = defaultdict(list)
    files: dict[str, list[float]] = defaultdict(list)
    for case in cases:
        tiers[case.tier].append(case.seconds)
        folders["/".join(case.path.split("/")[:depth])].append(case.seconds)
        files[case.path].append(case.seconds)
    _table("per tier", tiers, wall, None)
    _table(f"per folder (depth {depth})", folders, wall, None)
    _table(f"slowest {top} files", files, wall, top)
    print(f"\nslowest {top} tests")
    for case in sorted(cases, key=lambda c: -c.seconds)[:top]:
        print(f"  {case.seconds:8.1f}  {case.tier:<11} {case.nodeid}")


def compare(before: list[Case], after: list[Case], top: int) -> None:
    """The `top` slowest tests of the earlier report, with their time in the later one."""
    later = {case.nodeid: case.seconds for case in after}
    print(f"\nbefore -> after, the {top} slowest tests before")
    for case in sorted(before, key=lambda c: -c.seconds)[:top]:
        now = later.get(case.nodeid)
        shown = f"{now:8.1f}" if now is not None else "    gone"
        print(f"  {case.seconds:8.1f} -> {shown}  {case.nodeid}")
    total_before = sum(c.seconds for c in before)
    total_after = sum(c.seconds for c in after)
    print(f"\n  total in tests: {total_before:.1f} s -> {total_after:.1f} s")


def main(argv: list[str] | None = None) -> int:
    """Command line: print the breakdown of a report, optionally against an earlier one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="junit xml (pytest --junitxml=...)")
    parser.add_argument("--before", type=Path, help="an earlier junit xml to compare with")
    parser.add_argument("--depth", type=int, default=3, help="folder depth of the folder table")
    parser.add_argument("--top", type=int, default=25, help="how many files and tests to list")
    args = parser.parse_args(argv)
    if args.depth < 1 or args.top < 1:
        parser.error("--depth and --top must be at least 1")
    cases = read_cases(args.report)
    breakdown(cases, args.depth, args.top)
    if args.before:
        compare(read_cases(args.before), cases, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The unit tier's derivation and guard (tests/tiers.py), run on small generated suites."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = """
from pathlib import Path

import pytest

pytest_plugins = ["tests.tiers"]


@pytest.fixture
def pg_home():
    return "a server"
"""

INI = """
[pytest]
addopts = -p no:cacheprovider
unit_forbidden_imports =
    beacon_fake_runtime
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A suite with the tiers plugin, the fake server fixture and a fake model runtime."""
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    pytester.makepyfile(beacon_fake_runtime="LOADED = True\n")
    pytester.syspathinsert()
    return pytester


def test_tiers_are_derived_from_markers_and_fixtures(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_mixed="""
        import pytest

        def test_plain():
            pass

        def test_server(pg_home):
            pass

        @pytest.mark.slow
        def test_marked_slow():
            pass
        """
    )
    result = suite.runpytest_inprocess("-m", "unit", "-q")
    result.assert_outcomes(passed=1, deselected=2)
    result = suite.runpytest_inprocess("-m", "integration", "-q", "-rA")
    result.assert_outcomes(passed=2, deselected=1)
    result.stdout.fnmatch_lines(["*test_server*", "*test_marked_slow*"])


def test_unit_test_starting_a_process_fails(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_spawn="""
        import subprocess

        def test_spawns():
            subprocess.run(["true"], check=True)
        """
    )
    result = suite.runpytest_inprocess("-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*unit-tier test*test_spawns started a process*"])


def test_unit_test_importing_a_runtime_fails_even_if_it_catches_the_error(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        test_runtime="""
        def test_falls_back():
            try:
                import beacon_fake_runtime  # noqa: F401
            except ImportError:
                pass
        """
    )
    result = suite.runpytest_inprocess("-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*unit-tier test*test_falls_back imported beacon_fake_runtime*"])


def test_integration_tests_may_start_processes_and_load_runtimes(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_heavy="""
        import subprocess

        import pytest

        pytestmark = pytest.mark.integration

        def test_spawns_and_loads():
            subprocess.run(["true"], check=True)
            import beacon_fake_runtime

            assert beacon_fake_runtime.LOADED
        """
    )
    result = suite.runpytest_inprocess("-q")
    result.assert_outcomes(passed=1)


def test_every_listed_integration_test_still_exists() -> None:
    from tests.tiers import INTEGRATION_TESTS

    root = Path(__file__).resolve().parents[1]
    stale = []
    for prefix in INTEGRATION_TESTS:
        path, _, name = prefix.partition("::")
        source = root / path
        if not source.is_file() or (name and f"def {name}" not in source.read_text()):
            stale.append(prefix)
    assert not stale, f"tests/tiers.py INTEGRATION_TESTS names tests that moved: {stale}"


def test_every_module_sent_first_under_xdist_exists() -> None:
    from tests.tiers import XDIST_FIRST

    root = Path(__file__).resolve().parents[1]
    assert len(set(XDIST_FIRST)) == len(XDIST_FIRST)
    assert [path for path in XDIST_FIRST if not (root / path).is_file()] == []


def test_the_unit_run_does_not_import_modules_marked_heavy(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_fuzz="""
        import pytest

        pytestmark = pytest.mark.hostile

        raise RuntimeError("a heavy module was imported")
        """,
        test_light="""
        def test_light():
            pass
        """,
    )
    suite.runpytest_inprocess("-m", "unit", "-q").assert_outcomes(passed=1)
    # Without -m unit the module is imported (and here fails to): the skip is the tier's alone.
    suite.runpytest_inprocess("-q").assert_outcomes(errors=1)


def test_tests_sharing_a_costly_session_fixture_share_an_xdist_group(
    suite: pytest.Pytester,
) -> None:
    pytest.importorskip("xdist")
    suite.makeconftest(CONFTEST + "\n\n@pytest.fixture\ndef built():\n    return {}\n")
    suite.makepyfile(
        test_grouped="""
        def test_synth(built, request):
            assert request.node.get_closest_marker("xdist_group").args == ("cdk-synth",)

        def test_free(request):
            assert request.node.get_closest_marker("xdist_group") is None
        """
    )
    suite.runpytest_inprocess("-q").assert_outcomes(passed=2)

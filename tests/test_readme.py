"""The README stays true: its configuration table matches the settings models, and it gives
exactly the two set-up commands."""

from __future__ import annotations

import re
from pathlib import Path

from services.settings_table import readme_table, render_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_configuration_table_matches_settings_models() -> None:
    assert readme_table(README.read_text()) == render_table(), (
        "README configuration table is stale: regenerate it with "
        "`python -m services.settings_table`"
    )


def test_setup_section_has_exactly_make_demo_and_make_test() -> None:
    text = README.read_text()
    setup = text[text.index("## Set up") : text.index("## Try it")]
    commands = re.findall(r"^make (\w+)", setup, flags=re.MULTILINE)
    assert commands == ["demo", "test"]


def test_makefile_targets_named_in_readme_exist() -> None:
    makefile = (README.parent / "Makefile").read_text()
    included = [*README.parent.glob("infra/*.mk"), *README.parent.glob("pipelines/*.mk")]
    makefiles = makefile + "".join(p.read_text() for p in included)
    for target in set(re.findall(r"make ([a-z][\w-]+)", README.read_text())):
        assert re.search(rf"^{re.escape(target)}:", makefiles, flags=re.MULTILINE), target

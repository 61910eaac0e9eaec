"""The smoke checks against `beacon demo` started here (part of `make test`)."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.checks import CHECKS, Check


@pytest.mark.slow
@pytest.mark.parametrize("smoke", CHECKS, ids=[c.name for c in CHECKS])
def test_local_demo(smoke: Check, local_demo: httpx.Client) -> None:
    smoke.run(local_demo)


def test_every_endpoint_family_is_checked() -> None:
    names = {c.name for c in CHECKS}
    assert {"health", "ready", "recommend_jobs", "job_qa", "predict_readmission"} <= names
    assert "bad_input_is_422" in names
    assert len(names) == len(CHECKS), "check names are unique (they are the pytest ids)"

"""The smoke checks against a deployed stage: BEACON_E2E_BASE_URL and BEACON_E2E_API_KEY (CD)."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.checks import CHECKS, Check

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("smoke", CHECKS, ids=[c.name for c in CHECKS])
def test_deployed(smoke: Check, deployed: httpx.Client) -> None:
    smoke.run(deployed)

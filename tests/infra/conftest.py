"""Synthesizes each environment once per test session; every infra test reads these results."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# Test modules import their helpers from infra_support next to this file.
sys.path.insert(0, str(Path(__file__).parent))

from infra_support import ENVIRONMENTS, BuiltEnvironment, build


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, BuiltEnvironment]]:
    """dev, staging and prod, each synthesized exactly once per session."""
    cache: dict[str, BuiltEnvironment] = {}

    class Lazy(dict):
        def __missing__(self, name: str) -> BuiltEnvironment:
            cache[name] = build(name, tmp_path_factory.mktemp(f"cdk-{name}"))
            self[name] = cache[name]
            return cache[name]

    yield Lazy()


@pytest.fixture(params=ENVIRONMENTS)
def env(request: pytest.FixtureRequest, built: dict[str, BuiltEnvironment]) -> BuiltEnvironment:
    """Each environment in turn."""
    return built[request.param]


@pytest.fixture
def dev(built: dict[str, BuiltEnvironment]) -> BuiltEnvironment:
    """The dev environment (API on Lambda, single AZ database)."""
    return built["dev"]


@pytest.fixture
def staging(built: dict[str, BuiltEnvironment]) -> BuiltEnvironment:
    """The staging environment (API on Fargate, single NAT)."""
    return built["staging"]


@pytest.fixture
def prod(built: dict[str, BuiltEnvironment]) -> BuiltEnvironment:
    """The prod environment (Multi-AZ, NAT per AZ, deletion protection)."""
    return built["prod"]

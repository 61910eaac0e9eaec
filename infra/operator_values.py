"""Reads the operator's per-environment values (certificate, alert subscribers, API clients)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.config import OPERATOR_KEYS
from infra.service_rules import ConfigError

EXAMPLE = Path(__file__).resolve().parent / "operator-values.example.json"


def load_operator_values(path: str | Path, env_name: str) -> dict[str, Any]:
    """The `env_name` entry of an operator-values JSON file ({"prod": {...}, ...})."""
    file = Path(path)
    try:
        document = json.loads(file.read_text())
    except FileNotFoundError:
        raise ConfigError(f"operator values file {file} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"operator values file {file} is not JSON: {exc}") from None
    if not isinstance(document, Mapping):
        raise ConfigError(f"operator values file {file} must hold an object keyed by environment")
    values = document.get(env_name, {})
    if not isinstance(values, Mapping):
        raise ConfigError(f"{file}: the {env_name!r} entry must be an object")
    return dict(values)


def from_context(context: Mapping[str, Any], env_name: str) -> dict[str, Any]:
    """Operator values from CDK context: a file (`operator_values`) overlaid by single keys."""
    values: dict[str, Any] = {}
    if context.get("operator_values"):
        values.update(load_operator_values(context["operator_values"], env_name))
    values.update({k: context[k] for k in OPERATOR_KEYS if context.get(k)})
    return values

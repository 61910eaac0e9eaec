"""Helpers shared by the infra tests: the synthesized environment and template accessors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("dev", "staging", "prod")
HASH = re.compile(r"\b[0-9a-f]{64}\b")


@dataclass
class BuiltEnvironment:
    """One synthesized environment: the construct tree, its stacks and their templates."""

    name: str
    app: Any
    stacks: Any
    outdir: Path
    templates: dict[str, dict[str, Any]]

    def template(self, stack: str) -> dict[str, Any]:
        """Template of `Beacon-<env>-<stack>`."""
        return self.templates[f"Beacon-{self.name}-{stack}"]

    def resources(self, resource_type: str, stack: str | None = None) -> dict[str, dict]:
        """Logical id -> resource of one type, in one stack or in all of them."""
        names = [f"Beacon-{self.name}-{stack}"] if stack else list(self.templates)
        return {
            logical_id: resource
            for name in names
            for logical_id, resource in self.templates[name]["Resources"].items()
            if resource["Type"] == resource_type
        }

    def one(self, resource_type: str, stack: str | None = None) -> dict[str, Any]:
        """The only resource of a type; fails if there are none or several."""
        found = self.resources(resource_type, stack)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.values()))


def example_config(name: str) -> Any:
    """The environment with the documented example operator values (certificate, subscribers)."""
    from infra.config import get_config
    from infra.operator_values import EXAMPLE, load_operator_values

    return get_config(name, operator_values=load_operator_values(EXAMPLE, name))


def build(name: str, outdir: Path, config: Any = None) -> BuiltEnvironment:
    """Synthesize one environment without the nag plugins (tests run the packs themselves).

    `config` replaces the environment's example config (e.g. with optional switches on).
    """
    from aws_cdk import App

    from infra.app_builder import build_app
    from infra.cdk_context import context_for

    app = App(context=context_for(name), outdir=str(outdir))
    _, stacks = build_app(config or example_config(name), app=app, with_nag=False)
    app.synth()
    templates = {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in outdir.glob("*.template.json")
    }
    return BuiltEnvironment(name, app, stacks, outdir, templates)


def function_by_handler(env: BuiltEnvironment, handler: str) -> dict[str, Any] | None:
    """Properties of the container Lambda whose command is `handler`, if the env has it."""
    for function in env.resources("AWS::Lambda::Function").values():
        command = function["Properties"].get("ImageConfig", {}).get("Command")
        if command == [handler]:
            return function["Properties"]
    return None


def deployed_fingerprints() -> dict[str, str]:
    """The fingerprints whose change re-runs a deploy step, named by what they cover.

    Computed from the tree now, so a template that carries a stale or constant value (which
    would never trigger the step) shows the raw hash in place of the name and fails its
    snapshot, instead of vanishing under the generic asset-hash mask.
    """
    from infra.images import PIPELINES_DIR, migrations_fingerprint, tree_fingerprint

    return {
        migrations_fingerprint(): "<fingerprint of the SQL migrations>",
        tree_fingerprint(PIPELINES_DIR): "<fingerprint of the pipelines tree>",
    }


def mask_hashes(value: Any, fingerprints: dict[str, str] | None = None) -> Any:
    """Replace asset hashes so snapshots survive unrelated edits; the deploy fingerprints
    become their names (only when they equal the tree's current fingerprint)."""
    if fingerprints is None:
        fingerprints = deployed_fingerprints()
    if isinstance(value, str):
        if value in fingerprints:
            return fingerprints[value]
        return HASH.sub("<hash>", value)
    if isinstance(value, list):
        return [mask_hashes(v, fingerprints) for v in value]
    if isinstance(value, dict):
        return {
            mask_hashes(k, fingerprints): mask_hashes(v, fingerprints) for k, v in value.items()
        }
    return value


def statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements of a managed policy resource."""
    return resource["Properties"]["PolicyDocument"]["Statement"]


def as_list(value: Any) -> list[Any]:
    """A policy field as a list."""
    return value if isinstance(value, list) else [value]

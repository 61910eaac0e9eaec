"""cfn-lint on every template, and the env-var contract between CDK and the settings models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from infra_support import ENVIRONMENTS, BuiltEnvironment, function_by_handler
from pydantic_settings import BaseSettings

from lambdas.bluegreen_check.settings import BlueGreenCheckSettings
from lambdas.dag_sync.settings import DagSyncSettings
from lambdas.db_bootstrap.settings import BootstrapSettings
from lambdas.notifier.settings import NotifierSettings
from services.embeddings.settings import EmbeddingSettings
from services.recommender.settings import RecommenderSettings
from services.serving.settings import ServingSettings


def test_cfn_lint_reports_no_errors(built: dict[str, BuiltEnvironment]) -> None:
    templates = [
        str(path) for name in ENVIRONMENTS for path in built[name].outdir.glob("*.template.json")
    ]
    assert len(templates) == 15
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--format", "json", *templates],
        capture_output=True,
        text=True,
        check=False,
    )
    # Exit status is a bit mask: 2 errors, 4 warnings, 8 informational; 1 means it crashed.
    assert result.returncode in (0, 4, 8, 12), result.stderr[:2000]
    findings = json.loads(result.stdout)
    assert any(f["Rule"]["Id"] == "W3010" for f in findings), "cfn-lint did not really run"
    errors = [f for f in findings if f["Level"] == "Error"]
    assert errors == [], json.dumps(errors, indent=1)[:4000]


def env_names(model: type[BaseSettings]) -> set[str]:
    """Every environment variable name that sets a field of `model`."""
    prefix = str(model.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, field in model.model_fields.items():
        names.add(f"{prefix}{field_name}".upper())
        alias = field.validation_alias
        choices = getattr(alias, "choices", [alias] if isinstance(alias, str) else [])
        names.update(str(c).upper() for c in choices)
    return names


LAMBDA_MODELS: dict[str, type[BaseSettings]] = {
    "lambdas.db_bootstrap.handler.handler": BootstrapSettings,
    "lambdas.dag_sync.handler.handler": DagSyncSettings,
    "lambdas.notifier.handler.handler": NotifierSettings,
    "lambdas.api.handler.handler": ServingSettings,
    "lambdas.bluegreen_check.handler.handler": BlueGreenCheckSettings,
}


@pytest.mark.parametrize("handler", sorted(LAMBDA_MODELS))
def test_lambda_environment_is_declared_by_its_settings_model(
    handler: str, env: BuiltEnvironment
) -> None:
    function = function_by_handler(env, handler)
    if function is None:
        pytest.skip(f"{env.name} does not run {handler}")
    variables = set(function.get("Environment", {}).get("Variables", {}))
    assert variables, handler
    assert variables <= env_names(LAMBDA_MODELS[handler]), variables - env_names(
        LAMBDA_MODELS[handler]
    )


def test_container_environment_is_declared_by_serving_settings(env: BuiltEnvironment) -> None:
    # The API process reads ServingSettings and, for the events routes, RecommenderSettings.
    declared = env_names(ServingSettings) | env_names(RecommenderSettings)
    for task in env.resources("AWS::ECS::TaskDefinition").values():
        for container in task["Properties"]["ContainerDefinitions"]:
            variables = {v["Name"] for v in container.get("Environment", [])}
            secrets = {s["Name"] for s in container.get("Secrets", [])}
            assert variables and variables <= env_names(ServingSettings), variables
            assert secrets <= declared, secrets - declared


def test_processing_environment_is_declared_by_embedding_settings(env: BuiltEnvironment) -> None:
    variables = set(env.stacks.ml.processing.environment)
    assert {"BEACON_ENV", "BEACON_DB_SECRET_ARN", "BEACON_STORAGE_URI"} <= variables
    assert variables <= env_names(EmbeddingSettings), variables - env_names(EmbeddingSettings)

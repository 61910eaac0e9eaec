"""docker-compose.yml, validated statically (no Docker engine here): services, wiring, settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from services.settings_table import env_names, settings_models

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE = REPO_ROOT / "docker-compose.yml"
BEACON_SERVICES = ("api", "jobs")
SETTING_NAME = re.compile(r"^(BEACON_\w+|DATABASE_URL|MLFLOW_\w+)$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def declared_settings() -> set[str]:
    """Every environment name some settings model reads."""
    return {
        name
        for model in settings_models()
        for field in model.model_fields
        for name in env_names(model, field)
    }


def test_the_stack_has_its_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        *("postgres", "mlflow", "api", "jobs", "airflow"),
        *("prometheus", "alertmanager", "grafana"),  # profile `observability`
    }
    assert compose["name"] == "beacon"
    assert set(compose["volumes"]) >= {"postgres-data", "mlflow-data", "beacon-storage"}


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert re.fullmatch(r"pgvector/pgvector:\d+\.\d+\.\d+-pg\d+", services["postgres"]["image"])
    assert services["airflow"]["image"] == "apache/airflow:3.0.6"  # MWAA's newest Airflow
    assert re.fullmatch(r"ghcr\.io/mlflow/mlflow:v\d+\.\d+\.\d+", services["mlflow"]["image"])
    for name, service in services.items():
        image = service.get("image", "")
        assert not image.endswith(":latest"), name


def test_beacon_images_build_from_the_repository_dockerfiles(compose: dict[str, Any]) -> None:
    expected = {"api": "docker/serving.Dockerfile", "jobs": "docker/processing.Dockerfile"}
    for name, dockerfile in expected.items():
        build = compose["services"][name]["build"]
        assert build == {"context": ".", "dockerfile": dockerfile}
        assert (REPO_ROOT / dockerfile).is_file()


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    for name in ("postgres", "mlflow", "api", "airflow"):
        check = compose["services"][name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert check["retries"] >= 3, name
    assert "/ready" in " ".join(compose["services"]["api"]["healthcheck"]["test"])


def test_beacon_waits_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    for name in BEACON_SERVICES:
        depends = compose["services"][name]["depends_on"]
        assert depends == {
            "postgres": {"condition": "service_healthy"},
            "mlflow": {"condition": "service_healthy"},
        }


@pytest.mark.parametrize("name", BEACON_SERVICES)
def test_every_setting_name_exists_in_a_settings_model(name: str, compose: dict[str, Any]) -> None:
    environment = compose["services"][name]["environment"]
    used = {key for key in environment if SETTING_NAME.match(key)}
    assert {"DATABASE_URL", "MLFLOW_TRACKING_URI"} <= used
    unknown = sorted(used - declared_settings())
    assert unknown == [], f"{name} sets names no settings model reads: {unknown}"


def test_a_misspelt_setting_would_be_caught() -> None:
    assert "BEACON_LOG_LEVEL" in declared_settings()
    assert "BEACON_LOG_LEVLE" not in declared_settings()


def test_urls_point_at_the_compose_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    postgres = services["postgres"]["environment"]
    for name in BEACON_SERVICES:
        environment = services[name]["environment"]
        database = urlparse(environment["DATABASE_URL"])
        assert (database.hostname, database.port) == ("postgres", 5432)
        assert database.username == postgres["POSTGRES_USER"]
        assert database.password == postgres["POSTGRES_PASSWORD"]
        assert database.path == f"/{postgres['POSTGRES_DB']}"
        tracking = urlparse(environment["MLFLOW_TRACKING_URI"])
        assert tracking.hostname == "mlflow"
        assert f"--port={tracking.port}" in services["mlflow"]["command"]
        # The MLflow server refuses Host headers it does not know (DNS-rebinding protection).
        allowed = next(a for a in services["mlflow"]["command"] if a.startswith("--allowed-"))
        assert f"mlflow:{tracking.port}" in allowed.split("=", 1)[1].split(",")


def test_api_listens_where_it_is_published(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    port = api["environment"]["BEACON_PORT"]
    assert api["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert api["environment"]["BEACON_HOST"] == "0.0.0.0"


def test_airflow_runs_standalone_with_the_dags_mounted(compose: dict[str, Any]) -> None:
    airflow = compose["services"]["airflow"]
    assert airflow["command"] == "standalone"
    mounts = {v.split(":")[0]: v.split(":")[1] for v in airflow["volumes"]}
    assert mounts["./pipelines/dags"] == airflow["environment"]["AIRFLOW__CORE__DAGS_FOLDER"]
    assert (REPO_ROOT / "pipelines" / "dags").is_dir()
    # The `[beacon]` options the DAGs may read locally (pipelines/dags/beacon_pipelines).
    options = {
        k.removeprefix("AIRFLOW__BEACON__").lower()
        for k in airflow["environment"]
        if k.startswith("AIRFLOW__BEACON__")
    }
    settings = (REPO_ROOT / "pipelines/dags/beacon_pipelines/settings.py").read_text()
    for option in options:
        assert f'"{option}"' in settings, option


def test_ports_are_published_on_loopback_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)

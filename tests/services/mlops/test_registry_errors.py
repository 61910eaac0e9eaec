"""Only MLflow's "does not exist" reads as "not registered"; auth and network errors raise."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace

import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos import databricks_pb2 as pb

from services.mlops import registry


def test_only_resource_does_not_exist_means_absent():
    assert registry.is_not_found(MlflowException("gone", error_code=pb.RESOURCE_DOES_NOT_EXIST))
    for code in (
        pb.PERMISSION_DENIED,
        pb.UNAUTHENTICATED,
        pb.INTERNAL_ERROR,
        pb.TEMPORARILY_UNAVAILABLE,
    ):
        assert not registry.is_not_found(MlflowException("no", error_code=code))
    assert not registry.is_not_found(ConnectionError("network down"))
    # A missing alias is an invalid parameter to the SQL store: absent only for alias lookups.
    missing_alias = MlflowException("alias", error_code=pb.INVALID_PARAMETER_VALUE)
    assert registry.is_not_found(missing_alias, registry.ALIAS_ABSENT)
    assert not registry.is_not_found(missing_alias)


def test_alias_of_an_unregistered_model_is_none(tmp_path: Path):
    settings = SimpleNamespace(home=tmp_path, mlflow_tracking_uri=None)
    registry.configure_mlflow(settings)
    assert registry.alias_version("never-registered", registry.CHAMPION, settings) is None


def test_unreachable_registry_raises_instead_of_reading_as_unregistered(monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = SimpleNamespace(home=Path("."), mlflow_tracking_uri=f"http://127.0.0.1:{port}")
    with pytest.raises(MlflowException) as raised:
        registry.alias_version("readmission", registry.CHAMPION, settings)
    assert not registry.is_not_found(raised.value, registry.ALIAS_ABSENT)

"""Database selection (URL, Secrets Manager, embedded) and pool behaviour on a real server."""

from __future__ import annotations

import json

import boto3
import numpy as np
import pytest
from moto import mock_aws

from services.core.database import Database, resolve_database_url, url_from_secret
from services.core.errors import DatabaseUnavailable
from services.core.settings import CoreSettings


def test_explicit_url_wins(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.example:5432/beacon")
    assert resolve_database_url(CoreSettings()) == "postgresql://u:p@db.example:5432/beacon"


def test_secret_is_turned_into_a_verify_full_url(monkeypatch, tmp_path) -> None:
    bundle = tmp_path / "rds-global-bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("BEACON_DB_SSL_ROOT_CERT", str(bundle))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        arn = client.create_secret(
            Name="beacon/db",
            SecretString=json.dumps(
                {
                    "host": "db.internal",
                    "port": 5432,
                    "username": "app",
                    "password": "p@ss/word",
                    "dbname": "beacon",
                }
            ),
        )["ARN"]
        url = url_from_secret(arn, "eu-west-1")
        bad = client.create_secret(Name="beacon/bad", SecretString=json.dumps({"host": "x"}))
        with pytest.raises(ValueError, match="lacks username, password"):
            url_from_secret(bad["ARN"], "eu-west-1")
    # The password is URL-quoted so special characters cannot break the URL; the server's
    # certificate and host name are verified against the RDS CA bundle.
    assert url == (
        "postgresql://app:p%40ss%2Fword@db.internal:5432/beacon"
        f"?sslmode=verify-full&sslrootcert={str(bundle).replace('/', '%2F')}"
    )


def test_settings_never_print_the_database_url(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:supersecret@h/db")
    settings = CoreSettings()
    assert "supersecret" not in repr(settings) and "supersecret" not in str(settings.model_dump())


def test_embedded_default_survives_restart_of_the_process(private_home) -> None:
    settings = CoreSettings(home=private_home / "home")
    with Database.from_settings(settings) as db, db.connection() as conn:
        conn.execute("CREATE TABLE keep_me (v vector(3))")
        conn.execute("INSERT INTO keep_me VALUES (%s)", (np.array([1, 2, 3], dtype=np.float32),))
    assert (private_home / "home" / "pgdata" / "PG_VERSION").exists()
    from services.core.embedded import restart_embedded, stop_embedded

    stop_embedded(settings.pgdata)
    restart_embedded(settings.pgdata)
    with Database.from_settings(settings) as db, db.connection() as conn:
        value = conn.execute("SELECT v FROM keep_me").fetchone()[0].to_numpy()
    assert np.allclose(value, [1, 2, 3])


def test_unreachable_database_raises_database_unavailable(tmp_path) -> None:
    db = Database(f"postgresql://nobody@/nothing?host={tmp_path}", timeout=1.0)
    try:
        assert db.ping() is False
        with pytest.raises(DatabaseUnavailable, match="database unavailable"), db.connection():
            pass
    finally:
        db.close()


def test_temporary_databases_are_dropped_even_when_the_test_fails(pg_admin_url: str) -> None:
    from tests.helpers import database_name, database_names, temporary_database

    before = database_names(pg_admin_url)
    with (
        pytest.raises(RuntimeError, match="the test failed"),
        temporary_database(pg_admin_url) as url,
    ):
        assert database_name(url) in database_names(pg_admin_url) - before
        raise RuntimeError("the test failed")
    assert database_names(pg_admin_url) == before

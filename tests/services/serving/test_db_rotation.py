"""A rotated database password never fails a request: the pool re-reads the secret and goes on."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import httpx
import psycopg
import pytest
from moto import mock_aws
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from services.core.database import Database
from services.core.db_credentials import (
    FileSource,
    RotatingCredentials,
    SecretsManagerSource,
    is_auth_failure,
)
from services.serving.app import create_app
from tests.helpers import serve_in_thread

QUERY = {"text": "Senior data engineer: spark, airflow, dbt and kafka.", "top_k": 3}
REGION = "eu-west-1"


@contextmanager
def password_role(admin_url: str, database_url: str) -> Iterator[str]:
    """A login role that must give its password (scram) on the test server; dropped on exit.

    The embedded server trusts every local user, so this role gets its own pg_hba.conf line
    ahead of the trust lines; other roles are unaffected.
    """
    role = f"rot_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
        original = hba.read_text()
        rules = f"local all {role} scram-sha-256\nhost all {role} all scram-sha-256\n"
        hba.write_text(rules + original)
        conn.execute("SELECT pg_reload_conf()")
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal("first-password")
            )
        )
    with psycopg.connect(database_url, autocommit=True) as conn:
        for statement in (
            "GRANT USAGE ON SCHEMA public TO {}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}",
        ):
            conn.execute(sql.SQL(statement).format(sql.Identifier(role)))
    try:
        yield role
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            hba.write_text(original)
            conn.execute("SELECT pg_reload_conf()")
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def secret_for(database_url: str, role: str, password: str) -> str:
    """An RDS-style secret naming the test server (its socket folder is the host)."""
    parts = conninfo_to_dict(database_url)
    return json.dumps(
        {
            "host": parts["host"],
            "port": int(parts.get("port") or 5432),
            "username": role,
            "password": password,
            "dbname": parts["dbname"],
        }
    )


def test_rotation_under_load_fails_no_request(
    pg_admin_url, database_url, serving_settings, encoder, monkeypatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with password_role(pg_admin_url, database_url) as role, mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        arn = client.create_secret(
            Name=f"beacon/{role}", SecretString=secret_for(database_url, role, "first-password")
        )["ARN"]
        # The embedded server speaks no TLS; verify-full itself is covered by the unit tests.
        credentials = RotatingCredentials(
            SecretsManagerSource(arn, REGION, client=client), sslmode="disable"
        )
        database = Database("", min_size=2, max_size=4, timeout=5.0, credentials=credentials)
        app = create_app(serving_settings, database=database, encoder=encoder)
        stop = threading.Event()
        served: list[float] = []
        failures: list[tuple[float, str]] = []

        def load() -> None:
            with httpx.Client(base_url=base, timeout=20.0) as http:
                while not stop.is_set():
                    started = time.monotonic()
                    response = http.post("/v1/recommend_jobs", json=QUERY)
                    if response.status_code == 200:
                        served.append(time.monotonic())
                    else:
                        failures.append((started, f"{response.status_code} {response.text[:200]}"))

        try:
            with serve_in_thread(app) as base:
                workers = [threading.Thread(target=load) for _ in range(3)]
                for worker in workers:
                    worker.start()
                time.sleep(1.0)
                # Secrets Manager rotation: the database gets the new password, then the secret.
                with psycopg.connect(pg_admin_url, autocommit=True) as admin:
                    admin.execute(
                        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                            sql.Identifier(role), sql.Literal("second-password")
                        )
                    )
                    client.put_secret_value(
                        SecretId=arn, SecretString=secret_for(database_url, role, "second-password")
                    )
                    # What a failover or a recycled connection does: every session is gone.
                    admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                        (role,),
                    )
                rotated_at = time.monotonic()
                time.sleep(2.0)
                stop.set()
                for worker in workers:
                    worker.join(timeout=30)
        finally:
            stop.set()
            database.close()
        after = [t for t in served if t > rotated_at]
        # A query running on a session the rotation terminates fails with it (one per client
        # at most); every request that starts after the rotation must succeed.
        assert len(failures) <= len(workers), failures
        assert [text for started, text in failures if started > rotated_at] == []
        assert credentials.refreshes == 1
        assert len(after) >= 10, f"only {len(after)} requests served after the rotation"
        # The old password really is refused now, so the pool must have used the new one.
        with pytest.raises(psycopg.OperationalError) as refused:
            psycopg.connect(
                **{**credentials.secret.conninfo(sslmode="disable"), "password": "first-password"}
            )
        assert is_auth_failure(refused.value)


def test_file_source_and_errors_name_the_problem(tmp_path) -> None:
    secret = tmp_path / "db.json"
    secret.write_text(json.dumps({"host": "h", "username": "u", "password": "p"}))
    credentials = RotatingCredentials(FileSource(secret), sslmode="disable")
    assert credentials.kwargs()["dbname"] == "beacon" and credentials.kwargs()["port"] == 5432
    assert "'p'" not in repr(credentials.secret)
    assert credentials.refresh() is False
    secret.write_text(json.dumps({"host": "h", "username": "u", "password": "q"}))
    assert credentials.refresh() is True and credentials.kwargs()["password"] == "q"
    secret.write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        credentials.refresh()
    with pytest.raises(FileNotFoundError, match="BEACON_DB_SSL_ROOT_CERT"):
        RotatingCredentials(FileSource(secret), ssl_root_cert=tmp_path / "missing.pem")

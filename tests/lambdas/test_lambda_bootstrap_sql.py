"""The bootstrap SQL against the embedded PostgreSQL + pgvector server of the test session."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import boto3
import psycopg
import pytest
from moto import mock_aws
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from lambdas.db_bootstrap.database import bootstrap


@pytest.fixture
def fresh_database(pg_admin_url: str) -> Iterator[tuple[str, str]]:
    """An empty database (URL) and the name of the admin role that owns it."""
    name = f"boot_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        owner = conn.execute("SELECT current_user").fetchone()[0]
    yield pg_admin_url.replace("/postgres?", f"/{name}?"), owner
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def test_bootstrap_is_idempotent_and_the_app_role_is_least_privilege(
    fresh_database: tuple[str, str],
) -> None:
    url, owner = fresh_database
    dbname = conninfo_to_dict(url)["dbname"]
    role = f"app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        first = bootstrap(conn, app_username=role, app_password="pw-1", dbname=dbname, owner=owner)
        again = bootstrap(conn, app_username=role, app_password="pw-2", dbname=dbname, owner=owner)
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
        assert conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
    assert first[:2] == ["0001_extensions", "0002_jobs"] and again == []
    assert sorted(versions) == first
    app = {**conninfo_to_dict(url), "user": role, "password": "pw-2"}
    with psycopg.connect(**app, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO job_postings (job_id, title, company, location, seniority, description,"
            " content_hash) VALUES ('j1', 't', 'c', 'l', 'senior', 'd', 'h')"
        )
        assert conn.execute("SELECT count(*) FROM job_postings").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE not_allowed (x int)")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@mock_aws
def test_run_reads_both_secrets_and_bootstraps_the_app_database_as_the_master(
    fresh_database: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handler's run() as deployed, with Secrets Manager in moto and the embedded server.

    Only TLS is relaxed (the embedded server has no certificate): the master secret names no
    database, so the master connects to the app secret's database, and the migrations' tables
    belong to the master, whose default privileges grant the app role DML.
    """
    from lambdas.db_bootstrap import handler as bootstrap_handler
    from lambdas.db_bootstrap.settings import BootstrapSettings

    url, owner = fresh_database
    info = conninfo_to_dict(url)
    dbname = info["dbname"]
    role = f"app_{uuid.uuid4().hex[:8]}"
    server = {"host": info.get("host") or "localhost", "port": int(info.get("port") or 5432)}
    client = boto3.client("secretsmanager")
    master = client.create_secret(
        Name="beacon/master",
        SecretString=json.dumps({**server, "username": owner, "password": "master-pw"}),
    )["ARN"]
    app = client.create_secret(
        Name="beacon/app",
        SecretString=json.dumps(
            {**server, "username": role, "password": "app-pw", "dbname": dbname}
        ),
    )["ARN"]
    connected: list[dict] = []
    real_connect = psycopg.connect

    def connect(**kwargs: object) -> psycopg.Connection:
        connected.append(kwargs)
        return real_connect(**kwargs)

    monkeypatch.setattr(bootstrap_handler, "tls_options", lambda cert: {"sslmode": "disable"})
    monkeypatch.setattr(bootstrap_handler.psycopg, "connect", connect)
    settings = BootstrapSettings(master_secret_arn=master, app_secret_arn=app)

    result = bootstrap_handler.run(settings, client)

    assert [(c["user"], c["dbname"]) for c in connected] == [(owner, dbname)]
    assert result["AppUsername"] == role
    assert result["AppliedMigrations"].split(",")[:2] == ["0001_extensions", "0002_jobs"]
    with real_connect(url, autocommit=True) as conn:
        tables_owner = conn.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        assert tables_owner == [(owner,)]
        default_acl = conn.execute(
            "SELECT defaclrole::regrole::text, defaclacl::text FROM pg_default_acl"
        ).fetchall()
        assert any(r == owner and f"{role}=arwd" in acl for r, acl in default_acl)
    assert bootstrap_handler.run(settings, client)["AppliedMigrations"] == "none"  # idempotent
    with real_connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))

"""Database bootstrap: waiting/retry logic, secrets, migration discovery and the handler flow."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import psycopg
import pytest
from moto import mock_aws

from lambdas.db_bootstrap import handler as bootstrap_handler
from lambdas.db_bootstrap.database import migration_files
from lambdas.db_bootstrap.secrets import parse_secret, read_secret
from lambdas.db_bootstrap.settings import BootstrapSettings
from lambdas.db_bootstrap.waiting import WaitTimeoutError, backoff_delays, wait_for
from services.core.migrations import migration_files as core_migration_files

SECRET = {"host": "db.internal", "port": 5433, "username": "beacon_app", "password": "pw"}


class FakeClock:
    """Deterministic time: sleep advances the clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_backoff_doubles_and_caps() -> None:
    delay = backoff_delays(2, 30)
    assert [delay(n) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]


def test_wait_for_retries_until_success() -> None:
    clock = FakeClock()
    attempts = iter([OSError("refused"), OSError("refused"), "connected"])
    retries: list[int] = []

    def attempt() -> str:
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    result = wait_for(
        attempt,
        timeout_s=60,
        initial_backoff_s=1,
        max_backoff_s=10,
        retry_on=(OSError,),
        on_retry=lambda n, error, pause: retries.append(n),
        sleep=clock.sleep,
        clock=clock,
    )
    assert result == "connected"
    assert clock.sleeps == [1, 2] and retries == [1, 2]


def test_wait_for_gives_up_at_the_deadline_with_the_cause() -> None:
    clock = FakeClock()

    def attempt() -> None:
        raise OSError("no route to host")

    with pytest.raises(WaitTimeoutError, match="no route to host") as caught:
        wait_for(
            attempt,
            timeout_s=20,
            initial_backoff_s=4,
            max_backoff_s=8,
            retry_on=(OSError,),
            sleep=clock.sleep,
            clock=clock,
        )
    assert isinstance(caught.value.__cause__, OSError)
    assert sum(clock.sleeps) == pytest.approx(20)


def test_wait_for_does_not_retry_other_errors() -> None:
    calls = []

    def attempt() -> None:
        calls.append(1)
        raise ValueError("bad password")

    with pytest.raises(ValueError):
        wait_for(attempt, timeout_s=60, retry_on=(OSError,), sleep=lambda s: None)
    assert calls == [1]


def test_connect_when_ready_retries_operational_errors(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outcomes = [psycopg.OperationalError("starting up"), "conn"]
    seen: list[dict] = []

    def fake_connect(**kwargs: object) -> object:
        seen.append(kwargs)
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(bootstrap_handler.psycopg, "connect", fake_connect)
    bundle = tmp_path / "rds-global-bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    settings = BootstrapSettings(
        master_secret_arn="m",
        app_secret_arn="a",
        initial_backoff_s=0.01,
        max_backoff_s=0.01,
        ssl_root_cert=str(bundle),
    )
    secret = parse_secret(json.dumps({**SECRET, "dbname": "beacon"}))
    assert bootstrap_handler.connect_when_ready(secret, settings) == "conn"
    assert len(seen) == 2
    assert seen[0]["sslmode"] == "verify-full" and seen[0]["port"] == 5433
    assert seen[0]["sslrootcert"] == str(bundle)


def test_missing_ca_bundle_is_named_before_any_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bootstrap_handler.psycopg, "connect", lambda **kw: pytest.fail("no"))
    settings = BootstrapSettings(
        master_secret_arn="m", app_secret_arn="a", ssl_root_cert="/nonexistent/bundle.pem"
    )
    secret = parse_secret(json.dumps({**SECRET, "dbname": "beacon"}))
    with pytest.raises(FileNotFoundError, match="RDS CA bundle not found at /nonexistent"):
        bootstrap_handler.connect_when_ready(secret, settings)


def test_parse_secret_names_missing_fields() -> None:
    with pytest.raises(ValueError, match="lacks username, password"):
        parse_secret(json.dumps({"host": "h", "port": 1}))
    # The master secret names no database: it takes the app's (the same parser as the app).
    assert parse_secret(json.dumps(SECRET), default_dbname="app_db").dbname == "app_db"


@mock_aws
def test_read_secret_from_secrets_manager() -> None:
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="app", SecretString=json.dumps({**SECRET, "dbname": "b"}))[
        "ARN"
    ]
    secret = read_secret(client, arn)
    assert (secret.host, secret.port, secret.dbname) == ("db.internal", 5433, "b")
    assert "pw" not in repr(secret.conninfo()["host"])


def test_migration_discovery_matches_services_core() -> None:
    files = migration_files()
    versions = [m.version for m in files]
    on_disk = [p.stem for p in core_migration_files()]
    assert versions == on_disk and versions[:2] == ["0001_extensions", "0002_jobs"]


def test_migration_discovery_orders_by_name_and_skips_other_files(tmp_path: Path) -> None:
    (tmp_path / "0010_late.sql").write_text("SELECT 10;")
    (tmp_path / "0002_second.sql").write_text("SELECT 2;")
    (tmp_path / "README.md").write_text("not a migration")
    assert [m.version for m in migration_files(tmp_path)] == ["0002_second", "0010_late"]


def test_handler_create_runs_bootstrap_and_reports_success(
    monkeypatch: pytest.MonkeyPatch, cfn_event: dict, context: object, sent: list[dict]
) -> None:
    monkeypatch.setenv("BEACON_BOOTSTRAP_MASTER_SECRET_ARN", "arn:master")
    monkeypatch.setenv("BEACON_BOOTSTRAP_APP_SECRET_ARN", "arn:app")
    monkeypatch.setattr(bootstrap_handler.boto3, "client", lambda name: object())
    monkeypatch.setattr(
        bootstrap_handler, "run", lambda settings, client: {"AppliedMigrations": "0001"}
    )
    bootstrap_handler.handler(cfn_event, context)
    assert sent == [
        {
            "status": "SUCCESS",
            "physical_id": "beacon-database-bootstrap",
            "data": {"AppliedMigrations": "0001"},
        }
    ]


def test_handler_reports_failure_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch, cfn_event: dict, context: object, sent: list[dict]
) -> None:
    monkeypatch.setenv("BEACON_BOOTSTRAP_MASTER_SECRET_ARN", "arn:master")
    monkeypatch.setenv("BEACON_BOOTSTRAP_APP_SECRET_ARN", "arn:app")
    monkeypatch.setattr(bootstrap_handler.boto3, "client", lambda name: object())

    def broken(settings: object, client: object) -> dict:
        raise WaitTimeoutError("gave up after 12 attempts")

    monkeypatch.setattr(bootstrap_handler, "run", broken)
    bootstrap_handler.handler(cfn_event, context)
    assert sent[0]["status"] == "FAILED"
    assert "WaitTimeoutError: gave up" in sent[0]["reason"]


def test_handler_delete_leaves_the_database_alone(
    monkeypatch: pytest.MonkeyPatch, cfn_event: dict, context: object, sent: list[dict]
) -> None:
    monkeypatch.setattr(bootstrap_handler, "run", lambda *a: pytest.fail("must not run"))
    event = {**cfn_event, "RequestType": "Delete", "PhysicalResourceId": "keep-me"}
    bootstrap_handler.handler(event, context)
    assert sent == [{"status": "SUCCESS", "physical_id": "keep-me", "data": {}}]

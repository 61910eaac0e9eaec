"""`beacon` commands end to end that no workload test drives: db, generators, argument checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from services.cli import app
from services.core.migrations import discover
from tests.helpers import cli_env, drop_database

runner = CliRunner()


@pytest.fixture
def empty_database(pg_admin_url: str) -> Iterator[str]:
    """A database with nothing in it (no migration applied)."""
    name = "cli_empty"
    drop_database(pg_admin_url, name)
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield pg_admin_url.replace("/postgres?", f"/{name}?")
    drop_database(pg_admin_url, name)


def test_db_status_then_migrate_then_status(empty_database: str, tmp_path: Path) -> None:
    env = cli_env(empty_database, tmp_path)
    every = [m.version for m in discover()]
    before = runner.invoke(app, ["db", "status"], env=env)
    assert before.exit_code == 0, before.output
    assert json.loads(before.output) == {"applied": [], "pending": every, "documents": {}}

    migrated = runner.invoke(app, ["db", "migrate"], env=env)
    assert migrated.exit_code == 0, migrated.output
    assert f"applied {len(every)} migration(s): {', '.join(every)}" in migrated.output
    again = runner.invoke(app, ["db", "migrate"], env=env)
    assert again.exit_code == 0 and "applied 0 migration(s): none pending" in again.output

    after = json.loads(runner.invoke(app, ["db", "status"], env=env).output)
    assert after["applied"] == every and after["pending"] == []
    assert after["documents"] == {
        "job_postings": {"rows": 0, "embedded": 0},
        "resumes": {"rows": 0, "embedded": 0},
    }


def test_db_migrate_names_an_unreachable_database(tmp_path: Path) -> None:
    env = cli_env("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", tmp_path)
    result = runner.invoke(app, ["db", "migrate"], env=env)
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_train_generate_writes_the_public_layout_deterministically(tmp_path: Path) -> None:
    from services.training.readmission_schema import FEATURE_COLUMNS, TARGET_COLUMN

    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for out in (first, second):
        result = runner.invoke(
            app, ["train", "generate", "--out", str(out), "--rows", "50", "--seed", "3"]
        )
        assert result.exit_code == 0, result.output
        assert f"wrote 50 encounters to {out}" in result.output
    assert first.read_bytes() == second.read_bytes()
    frame = pd.read_csv(first)
    assert len(frame) == 50 and {*FEATURE_COLUMNS, TARGET_COLUMN} <= set(frame.columns)
    bad = runner.invoke(app, ["train", "generate", "--out", str(first), "--rows", "5"])
    assert bad.exit_code == 2 and "--rows" in bad.output


def test_events_generate_stores_then_is_idempotent(database_url: str, tmp_path: Path) -> None:
    env = cli_env(database_url, tmp_path)
    args = ["events", "generate", "--users", "20", "--events", "15", "--seed", "5", "--no-embed"]
    first = runner.invoke(app, args, env=env)
    assert first.exit_code == 0, first.output
    assert "generated 20 users, 15 events" in first.output
    second = runner.invoke(app, args, env=env)
    assert second.exit_code == 0, second.output
    assert "stored; 0 new interactions" in second.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM event_users").fetchone()[0] == 20
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 15


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--control"], "--control and --ids-mapping only apply with --data"),
        (["--batches", "999"], "--batches: at most"),
        (["--data", "x.csv", "--scenario", "none"], "--scenario and --rows apply to generated"),
        (["--scenario", "storm"], "--scenario"),
        (["--initial-share", "0.95"], "--initial-share"),
        (["--rows", "10"], "--rows"),
    ],
)
def test_simulate_refuses_bad_arguments_before_any_work(
    args: list[str], message: str, tmp_path: Path
) -> None:
    env = cli_env("postgresql://nobody@127.0.0.1:1/none", tmp_path)
    result = runner.invoke(app, ["simulate", *args], env=env)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output


def test_serve_help_names_its_options() -> None:
    result = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--port" in result.output and "--host" in result.output

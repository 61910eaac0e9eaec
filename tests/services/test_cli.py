"""The `beacon` command end to end: help, clear errors, refresh from files, demo lifecycle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from services.cli import app
from services.jobs.synthetic import Corpus, generate_corpus, write_corpus
from tests.helpers import free_port

runner = CliRunner()


def _env(database_url: str | None, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update({"BEACON_HOME": str(home), "BEACON_LOG_FORMAT": "json", "HF_HUB_OFFLINE": "1"})
    env.update(extra)
    return env


@pytest.mark.parametrize(
    "args",
    [[], ["db"], ["data"], ["embed"], ["embed", "refresh"], ["data", "load"], ["serve"], ["demo"]],
)
def test_every_command_has_help(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_bad_file_exits_2_names_line_and_column_and_writes_nothing(database_url, tmp_path):
    corpus = generate_corpus(n_postings=5, n_resumes=1, seed=1)
    postings, _ = write_corpus(corpus, tmp_path)
    lines = postings.read_text().splitlines()
    lines[3] = lines[3].replace('"seniority": "', '"seniority": "astronaut-')
    postings.write_text("\n".join(lines) + "\n")

    result = runner.invoke(
        app,
        ["data", "load", str(postings), "--kind", "postings"],
        env=_env(database_url, tmp_path),
    )
    assert result.exit_code == 2
    assert "line 4" in result.output and "seniority" in result.output
    assert "Traceback" not in result.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM job_postings").fetchone()[0] == 0


def test_refresh_with_source_folder_loads_embeds_and_then_skips(database_url, tmp_path):
    corpus = generate_corpus(n_postings=8, n_resumes=2, seed=4)
    folder = tmp_path / "drop"
    write_corpus(corpus, folder)
    env = _env(database_url, tmp_path)

    first = runner.invoke(app, ["embed", "refresh", "--source", str(folder)], env=env)
    assert first.exit_code == 0, first.output
    assert '"embedded": 10' in first.output
    second = runner.invoke(app, ["embed", "refresh"], env=env)
    assert second.exit_code == 0 and '"embedded": 0' in second.output

    # A source file is the full set of its kind: postings missing from it are removed.
    write_corpus(Corpus(postings=corpus.postings[:5], resumes=corpus.resumes), folder)
    third = runner.invoke(app, ["embed", "refresh", "--source", str(folder)], env=env)
    assert third.exit_code == 0, third.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM job_postings").fetchone()[0] == 5


def test_refresh_with_missing_source_is_a_clear_error(database_url, tmp_path):
    result = runner.invoke(
        app,
        ["embed", "refresh", "--source", str(tmp_path / "nope")],
        env=_env(database_url, tmp_path),
    )
    assert result.exit_code == 2 and "no files found" in result.output


def test_refresh_with_missing_ok_treats_an_empty_partition_as_a_quiet_day(database_url, tmp_path):
    env = _env(database_url, tmp_path)
    write_corpus(generate_corpus(n_postings=3, n_resumes=1, seed=5), tmp_path / "day1")
    loaded = runner.invoke(app, ["embed", "refresh", "--source", str(tmp_path / "day1")], env=env)
    assert loaded.exit_code == 0, loaded.output
    args = ["embed", "refresh", "--source", str(tmp_path / "day2"), "--upsert-only", "--missing-ok"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "no files, nothing new to load" in result.output
    assert '"embedded": 0' in result.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM job_postings").fetchone()[0] == 3


def test_db_status_shows_migrations_and_the_jobs_section(database_url, tmp_path):
    """`db status` from core, with the document counts the jobs workload registers."""
    import json

    corpus = generate_corpus(n_postings=5, n_resumes=2, seed=6)
    folder = tmp_path / "drop"
    write_corpus(corpus, folder)
    env = _env(database_url, tmp_path)
    assert runner.invoke(app, ["embed", "refresh", "--source", str(folder)], env=env).exit_code == 0
    result = runner.invoke(app, ["db", "status"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["pending"] == [] and "0002_jobs" in report["applied"]
    assert report["documents"] == {
        "job_postings": {"rows": 5, "embedded": 5},
        "resumes": {"rows": 2, "embedded": 2},
    }


def test_source_file_of_no_registered_kind_is_named(database_url, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "events.csv").write_text("a,b\n1,2\n")
    result = runner.invoke(
        app, ["embed", "refresh", "--source", str(folder)], env=_env(database_url, tmp_path)
    )
    assert result.exit_code == 2
    assert "events.csv: cannot tell its kind" in result.output and "posting" in result.output
    assert "Traceback" not in result.output


def test_demo_serves_then_stops_cleanly_with_its_database(private_home) -> None:
    """A fresh home: the demo starts its own embedded server, serves, and takes it down on TERM."""
    port = free_port()
    home = private_home / "home"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services.cli",
            "demo",
            "--postings",
            "12",
            "--resumes",
            "3",
            "--port",
            str(port),
        ],
        env=_env(None, home, BEACON_LOG_FORMAT="text"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        ready = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert ready is not None and ready.status_code == 200, "demo never became ready"
        found = httpx.post(
            f"http://127.0.0.1:{port}/v1/recommend_jobs",
            json={"resume_id": "res-000001", "top_k": 3},
            timeout=10,
        )
        assert found.status_code == 200 and len(found.json()["results"]) == 3
        assert (home / "pgdata" / "postmaster.pid").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output[-3000:]
    assert "generating 12 postings" in output and "curl" in output
    assert not (home / "pgdata" / "postmaster.pid").exists(), "embedded server must stop with demo"

    # Second run reuses the data: nothing to embed.
    again = subprocess.run(
        [sys.executable, "-m", "services.cli", "demo", "--no-serve"],
        env=_env(None, home, BEACON_LOG_FORMAT="text"),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert "reusing loaded documents" in again.stderr
    assert "embeddings are current: nothing to embed" in again.stderr

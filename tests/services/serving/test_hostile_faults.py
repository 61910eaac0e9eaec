"""Faults: a stalled database, a killed embedded server, signals to `beacon` processes.

Each test names the defect it guards: /health must not depend on the database or the thread
pool, the embedded server must come back without an operator, and no process that started
it may leave it running behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest

from services.core.database import Database
from services.core.embedded import prune_stale_handles, start_embedded
from services.serving.app import create_app
from tests.helpers import free_port, serve_in_thread, wait_for

pytestmark = pytest.mark.hostile

REPO = Path(__file__).resolve().parents[3]


def _postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


def _handles(pgdata: Path) -> list[int]:
    import json

    path = pgdata / ".handle_pids.json"
    return json.loads(path.read_text()) if path.exists() else []


def test_stalled_database_fails_requests_fast_while_health_answers(
    serving_settings, jobs_database_url, encoder
) -> None:
    # Statement timeout 1 s, two pooled connections: a locked table stalls every query.
    database = Database(
        jobs_database_url, min_size=1, max_size=2, timeout=2.0, statement_timeout=1.0
    )
    settings = serving_settings.model_copy(update={"ready_timeout": 0.5})
    app = create_app(settings, database=database, encoder=encoder)
    blocker = psycopg.connect(jobs_database_url)
    results: list[int | str] = []
    try:
        with serve_in_thread(app) as base:
            blocker.execute("LOCK TABLE resumes IN ACCESS EXCLUSIVE MODE")

            def stalled() -> None:
                try:
                    r = httpx.post(
                        f"{base}/v1/recommend_jobs", json={"resume_id": "res-000001"}, timeout=30
                    )
                    results.append(r.status_code)
                except httpx.HTTPError as exc:
                    results.append(type(exc).__name__)

            # More stalled requests than the thread pool has workers (40).
            threads = [threading.Thread(target=stalled) for _ in range(48)]
            for t in threads:
                t.start()
            time.sleep(0.5)
            health = httpx.get(f"{base}/health", timeout=1.0)  # fails the test if slower
            assert health.status_code == 200
            ready = httpx.get(f"{base}/ready", timeout=2.0)
            assert ready.status_code == 503
            assert ready.json()["reason"] == "database unavailable"
            for t in threads:
                t.join(timeout=60)
            blocker.rollback()
            # Every stalled request ended with a clean 503 (statement or pool timeout).
            assert set(results) == {503}, results
            again = httpx.post(
                f"{base}/v1/recommend_jobs", json={"resume_id": "res-000001"}, timeout=30
            )
            assert again.status_code == 200
    finally:
        blocker.close()
        database.close()


def test_sigkill_of_the_embedded_server_recovers_without_an_operator(private_home) -> None:
    pgdata = private_home / "pgdata"
    url = start_embedded(pgdata)
    with Database(url, min_size=1, max_size=2, timeout=2.0) as db:
        assert db.ping()
        killed = _postmaster_pid(pgdata)
        os.kill(killed, signal.SIGKILL)
        wait_for(lambda: _gone(killed))
        # The supervisor in this process (the one that started it) brings it back.
        wait_for(db.ping, timeout=60, step=0.5)
        assert _postmaster_pid(pgdata) != killed


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEACON_", "MLFLOW_"))}
    return {**env, "BEACON_HOME": str(home), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}


def test_stale_handle_of_a_killed_job_is_cleaned_and_the_server_stopped(private_home) -> None:
    pgdata = private_home / "pgdata"
    code = (
        "import sys, time; from services.core.embedded import start_embedded; "
        f"start_embedded(__import__('pathlib').Path({str(pgdata)!r})); print('up', flush=True); "
        "time.sleep(600)"
    )
    job = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, env=_env(private_home)
    )
    assert job.stdout.readline().strip() == b"up"
    server = _postmaster_pid(pgdata)
    job.kill()  # kill -9: no atexit, its pid stays in the handle list
    job.wait()
    assert job.pid in _handles(pgdata)
    assert prune_stale_handles(pgdata) == [job.pid]
    assert _handles(pgdata) == []
    # The next command attaches, and being the last live process, stops the server at exit.
    finish = subprocess.run(
        [sys.executable, "-c", code.replace("time.sleep(600)", "pass")],
        env=_env(private_home),
        capture_output=True,
        timeout=120,
    )
    assert finish.returncode == 0, finish.stderr[-2000:]
    wait_for(lambda: not psutil.pid_exists(server), timeout=30)


@pytest.mark.slow
def test_sigterm_of_beacon_serve_leaves_no_server_behind(private_home) -> None:
    port = free_port()
    env = {**_env(private_home), "BEACON_PORT": str(port), "BEACON_LOG_FORMAT": "json"}
    serve = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve"],
        env=env,
        cwd=private_home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def up() -> bool:
            assert serve.poll() is None, serve.stderr.read()[-3000:]
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=240, step=0.5)
        banner = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).headers
        assert "server" not in banner  # no software banner from `beacon serve`
        pgdata = private_home / "pgdata"
        server = _postmaster_pid(pgdata)
        assert serve.pid in _handles(pgdata)
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
        # The postmaster finishes its shutdown a moment after pg_ctl returns; a server that
        # outlived `beacon serve` fails this wait.
        wait_for(lambda: _gone(server), timeout=20)
        assert _handles(pgdata) == []
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()


def _gone(pid: int) -> bool:
    """The process has exited (a zombie awaiting its reaper counts as exited)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True

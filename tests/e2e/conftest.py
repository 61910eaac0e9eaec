"""Targets for the smoke checks: a deployed stage (BEACON_E2E_*) or a local `beacon demo`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tests.helpers import embedded_home, free_port

BEACON = Path(sys.executable).parent / "beacon"
# Small enough that training and the demo's embeddings refresh take seconds on two cores.
LOCAL_SETTINGS = {
    "HF_HUB_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "BEACON_LOG_FORMAT": "text",
    "BEACON_READMISSION_ROWS": "3000",
    "BEACON_HPO_TRIALS": "1",
    "BEACON_HPO_FAMILIES": "logreg",
    "BEACON_TRAIN_THREADS": "1",
    # The smoke suite checks serving, not model quality: any trained model may be champion.
    "BEACON_AUC_FLOOR": "0.5",
    # A small events catalogue: the demo embeds the events and trains the recommenders.
    "BEACON_EVENTS_USERS": "300",
    "BEACON_EVENTS_COUNT": "120",
}
DEMO_ARGS = ("demo", "--postings", "200", "--resumes", "60", "--host", "127.0.0.1")
READY_TIMEOUT_S = 240.0


def _local_environment(home: Path) -> dict[str, str]:
    """This process's environment without any Beacon, database or MLflow setting, plus ours."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BEACON_", "MLFLOW_")) and k != "DATABASE_URL"
    }
    return {**env, **LOCAL_SETTINGS, "BEACON_HOME": str(home)}


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"beacon demo exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"beacon demo not ready after {READY_TIMEOUT_S:.0f}s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as an orchestrator stops the API; kill only if it hangs."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail("beacon demo ignored SIGTERM for 60 s")


@pytest.fixture(scope="session")
def local_demo() -> Iterator[httpx.Client]:
    """`beacon demo` on a free port with a readmission champion, in a private Beacon home.

    The home lives outside pytest's temp root (see tests.helpers.embedded_home), which also
    stops the embedded PostgreSQL if the demo left it running.
    """
    with embedded_home() as home:
        env = _local_environment(home)
        log = home / "e2e-demo.log"
        with log.open("wb") as out:
            subprocess.run(
                [str(BEACON), "train", "readmission", "--run-id", "e2e-smoke"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=300,
                check=True,
            )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(BEACON), *DEMO_ARGS, "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_ready(url, process, log)
            with httpx.Client(base_url=url, timeout=60) as client:
                yield client
        finally:
            code = _stop(process)
        assert code == 0, f"beacon demo exited with {code} on SIGTERM:\n{log.read_text()[-3000:]}"


@pytest.fixture(scope="session")
def deployed() -> Iterator[httpx.Client]:
    """The stage at BEACON_E2E_BASE_URL, with BEACON_E2E_API_KEY sent as x-api-key."""
    base_url = os.environ.get("BEACON_E2E_BASE_URL", "").strip()
    if not base_url:
        pytest.skip("set BEACON_E2E_BASE_URL (and BEACON_E2E_API_KEY) to check a deployed API")
    api_key = os.environ.get("BEACON_E2E_API_KEY", "").strip()
    loopback = urlparse(base_url).hostname in ("localhost", "127.0.0.1", "::1")
    if not api_key and not loopback:
        pytest.skip("set BEACON_E2E_API_KEY: the deployed API needs its key")
    headers = {"x-api-key": api_key} if api_key else {}
    # The deployed API authorizes with IAM: sign as the client whose role the job assumed.
    region = os.environ.get("BEACON_E2E_SIGV4_REGION", "").strip()
    auth = None
    if region:
        from tests.e2e.sigv4 import SigV4

        auth = SigV4(region)
    with httpx.Client(base_url=base_url, headers=headers, timeout=60, auth=auth) as client:
        yield client

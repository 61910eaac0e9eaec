"""Hot swap: the served version follows the champion alias under load, and bad versions are
refused while the old one keeps serving (real uvicorn, real MLflow store, real pipelines)."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from services.mlops.registry import client as registry_client
from services.serving.app import create_app
from services.training.readmission_schema import EXAMPLE_RECORD
from tests.helpers import hammer, serve_in_thread, wait_for
from tests.services.serving.conftest import ModelStore

POLL_SECONDS = 0.2


@pytest.fixture(scope="module")
def store() -> Iterator[ModelStore]:
    """One MLflow store for the module (creating one costs seconds); each test registers its
    own model name, so the tests stay independent."""
    home = Path(tempfile.mkdtemp(prefix="beacon-models-"))
    yield ModelStore(home)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def name(request) -> str:
    return f"readmission-{request.node.name.removeprefix('test_')[:40]}"


@pytest.fixture
def live(store, name, readmission_model, plain_db, encoder) -> Iterator[tuple[str, object]]:
    """Version 1 as champion, then a real server on loopback polling every 0.2 s."""
    store.register(readmission_model, name, threshold=0.2)
    settings = store.serving(model_poll_seconds=POLL_SECONDS, readmission_model_name=name)
    app = create_app(settings, database=plain_db, encoder=encoder)
    with serve_in_thread(app) as base_url:
        yield base_url, app


def _hammer(base_url: str, stop: threading.Event, seen: list, failures: list) -> None:
    body = {"records": [EXAMPLE_RECORD] * 5}

    def record(payload: dict) -> tuple:
        return payload["model"]["version"], payload["threshold"]

    hammer(base_url, "/v1/predict/readmission", body, record, stop, seen, failures, timeout=10)


def _info(base_url: str) -> dict:
    return httpx.get(f"{base_url}/v1/model/info", timeout=10).json()["models"]["readmission"]


def _metric(base_url: str, name: str, outcome: str) -> float:
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    prefix = f'beacon_model_loads_total{{model="{name}",outcome="{outcome}"}} '
    line = next((row for row in text.splitlines() if row.startswith(prefix)), None)
    return float(line.split()[-1]) if line else 0.0


def test_alias_moves_under_concurrent_requests_without_errors(live, store, name, readmission_model):
    base_url, _ = live
    stop, failures = threading.Event(), []
    seen: list[list] = [[] for _ in range(4)]
    threads = [threading.Thread(target=_hammer, args=(base_url, stop, s, failures)) for s in seen]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: all(len(s) >= 5 for s in seen))
        # Version 2 is told apart by its threshold (0.9); the alias moves while requests flow.
        store.register(readmission_model, name, threshold=0.9)
        wait_for(lambda: all(s and s[-1][0] == "2" for s in seen))
        before = [len(s) for s in seen]
        wait_for(lambda: all(len(s) >= n + 5 for s, n in zip(seen, before, strict=True)))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert failures == []
    for responses in seen:
        versions = [v for v, _ in responses]
        assert versions[0] == "1" and versions[-1] == "2"
        # Once a client saw version 2 it never saw version 1 again: one atomic swap.
        first_new = versions.index("2")
        assert set(versions[first_new:]) == {"2"}
        # Version and threshold always come from the same loaded model.
        assert {(v, t) for v, t in responses} <= {("1", 0.2), ("2", 0.9)}
    assert _info(base_url)["version"] == "2"
    assert _metric(base_url, name, "swapped") == 2.0


def test_broken_versions_are_refused_and_the_old_one_kept(live, store, name, readmission_model):
    base_url, app = live
    # Version 2 loads but cannot score the stored example record: it was fitted on a column
    # the readmission schema does not have.
    import pandas as pd

    frame = pd.DataFrame({"not_a_schema_column": [0.0, 1.0, 2.0, 3.0]})
    wrong_columns = Pipeline([("clf", LogisticRegression())]).fit(frame, [0, 1, 0, 1])
    from services.mlops.registry import register_model

    version = register_model(
        name,
        wrong_columns,
        frame.head(1),
        threshold=0.5,
        family="logreg",
        settings=store.training,
        alias="champion",
    ).version
    assert str(version) == "2"
    wait_for(lambda: _info(base_url).get("refused", {}).get("version") == "2")
    info = _info(base_url)
    assert info["version"] == "1" and info["status"] == "serving"
    assert info["refused"]["stage"] == "smoke"
    assert _metric(base_url, name, "refused_smoke") == 1.0
    response = httpx.post(
        f"{base_url}/v1/predict/readmission", json={"records": [EXAMPLE_RECORD]}, timeout=10
    )
    assert response.status_code == 200
    assert response.json()["model"]["version"] == "1"

    # Version 3 is a good model whose artifacts went missing: it fails to load.
    version = store.register(readmission_model, name, promote=False)
    mlflow_client = registry_client(store.training)
    download = mlflow_client.get_model_version_download_uri(name, version)
    shutil.rmtree(Path(urlparse(download).path if "://" in download else download))
    mlflow_client.set_registered_model_alias(name, "champion", version)
    wait_for(lambda: _info(base_url).get("refused", {}).get("version") == "3")
    assert _info(base_url)["refused"]["stage"] == "load"
    assert _info(base_url)["version"] == "1"
    assert _metric(base_url, name, "refused_load") == 1.0

    # A refused version is not retried on every poll; the next good version is taken.
    slot = app.state.context.models.readmission
    assert slot.refresh() == "refused"
    store.register(readmission_model, name)
    wait_for(lambda: _info(base_url)["version"] == "4")
    assert "refused" not in _info(base_url)


def test_a_request_keeps_the_model_it_started_with(
    store, name, readmission_model, plain_db, encoder
):
    store.register(readmission_model, name, threshold=0.2)
    app = create_app(store.serving(readmission_model_name=name), database=plain_db, encoder=encoder)
    from fastapi.testclient import TestClient

    with TestClient(app):
        slot = app.state.context.models.readmission
        held = slot.require()
        store.register(readmission_model, name, threshold=0.9)
        assert slot.refresh() == "swapped"
        assert slot.require().version == "2"
        # The object a request took before the swap is untouched and still scores.
        assert held.version == "1" and held.threshold == 0.2
        from tests.services.serving.conftest import readmission_example

        assert 0.0 <= held.predict_proba(readmission_example())[0] <= 1.0

"""POST /v1/predict/readmission and GET /v1/model/info on a real MLflow store and real pipeline."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.serving.app import create_app
from services.training.readmission_schema import EXAMPLE_RECORD, FEATURE_COLUMNS


@pytest.fixture(scope="module")
def predict_client(champion_store, plain_db, encoder) -> Iterator[TestClient]:
    app = create_app(champion_store.serving(), database=plain_db, encoder=encoder)
    with TestClient(app) as client:
        yield client


def _record(**changes):
    return {**EXAMPLE_RECORD, **changes}


def _predict(client, records):
    return client.post("/v1/predict/readmission", json={"records": records})


def test_single_record(predict_client, readmission_model):
    response = _predict(predict_client, [_record()])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == {"name": "readmission", "version": "1", "alias": "champion"}
    assert body["threshold"] == 0.2
    [prediction] = body["predictions"]
    expected = readmission_model.predict_proba(_frame([_record()]))[0, 1]
    assert prediction["probability"] == pytest.approx(expected, abs=1e-6)
    assert prediction["label"] == int(expected >= 0.2)


def test_batch_keeps_order_and_labels_at_the_threshold(predict_client, readmission_model):
    from services.training.readmission_synthetic import generate_readmission

    frame = generate_readmission(100, seed=99)[FEATURE_COLUMNS]
    records = frame.to_dict(orient="records")
    response = _predict(predict_client, records)
    assert response.status_code == 200, response.text
    got = np.array([p["probability"] for p in response.json()["predictions"]])
    expected = readmission_model.predict_proba(frame)[:, 1]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    labels = [p["label"] for p in response.json()["predictions"]]
    assert labels == [int(p >= 0.2) for p in got]
    assert 0 < sum(labels) < len(labels)


def test_unknown_categories_and_missing_values_are_accepted(predict_client):
    unusual = _record(
        race="Martian",
        medical_specialty="Underwater-Basketweaving",
        admission_type_id=99,
        diag_1="V99.9",
        diag_2="?",
        diag_3=None,
        payer_code="?",
    )
    del unusual["weight"]  # often-missing columns may be left out
    response = _predict(predict_client, [unusual])
    assert response.status_code == 200, response.text
    assert 0.0 <= response.json()["predictions"][0]["probability"] <= 1.0


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"time_in_hospital": "five"}, "time_in_hospital", "int_type"),
        ({"num_medications": 2.5}, "num_medications", "int_type"),
        ({"number_inpatient": -1}, "number_inpatient", "greater_than_equal"),
        ({"race": 3}, "race", "string_type"),
        ({"insulin": ["Up"]}, "insulin", "string_type"),
    ],
)
def test_wrong_types_are_422_naming_record_and_field(predict_client, changes, field, error):
    records = [_record(), _record(), _record(**changes)]
    response = _predict(predict_client, records)
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["body", "records", 2, field]
    assert detail["type"] == error
    assert "input" not in detail  # health data is never echoed back


def test_missing_required_and_unknown_fields_are_422(predict_client):
    missing = _record()
    del missing["age"]
    response = _predict(predict_client, [missing, _record(readmitted="<30")])
    assert response.status_code == 422
    locs = {tuple(d["loc"]) for d in response.json()["detail"]}
    assert locs == {("body", "records", 0, "age"), ("body", "records", 1, "readmitted")}


@pytest.mark.parametrize("count", [0, 1001])
def test_batch_size_is_bounded(predict_client, count):
    response = _predict(predict_client, [_record()] * count)
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["body", "records"]
    assert detail["type"] in {"too_short", "too_long"}


def test_largest_batch_is_served(predict_client):
    response = _predict(predict_client, [_record()] * 1000)
    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == 1000


def test_raw_records_are_never_logged(predict_client, caplog):
    marker = "Very-Distinctive-Specialty"
    with caplog.at_level(logging.DEBUG):
        assert _predict(predict_client, [_record(medical_specialty=marker)]).status_code == 200
        assert (
            _predict(predict_client, [_record(medical_specialty=marker, age=5)]).status_code == 422
        )
    assert marker not in caplog.text


def test_model_info(predict_client):
    response = predict_client.get("/v1/model/info")
    assert response.status_code == 200
    models = response.json()["models"]
    readmission = models["readmission"]
    assert readmission["status"] == "serving"
    assert (readmission["name"], readmission["version"], readmission["alias"]) == (
        "readmission",
        "1",
        "champion",
    )
    assert readmission["trained_at"]
    assert readmission["threshold"] == 0.2
    assert readmission["model_family"] == "logreg"
    assert readmission["metrics"] == {"test_brier": 0.09, "test_pr_auc": 0.2, "test_roc_auc": 0.7}
    assert models["job_match"] == {
        "name": "job-match",
        "version": None,
        "alias": "champion",
        "status": "no_model",
        "trained_at": None,
        "metrics": {},
    }


def test_no_champion_is_503_and_the_rest_still_works(model_store, plain_db, encoder):
    app = create_app(model_store.serving(), database=plain_db, encoder=encoder)
    with TestClient(app) as client:
        response = _predict(client, [_record()])
        assert response.status_code == 503
        assert response.json() == {
            "detail": "no champion model for 'readmission' yet: run `beacon train readmission`"
        }
        assert response.headers["retry-after"]
        info = client.get("/v1/model/info").json()["models"]
        assert info["readmission"]["status"] == "no_model"
        assert client.get("/health").status_code == 200
    # A fresh laptop has no MLflow store at all: nothing was created by merely looking.
    assert not (model_store.home / "mlflow").exists()


def _frame(records):
    import pandas as pd

    return pd.DataFrame(records, columns=FEATURE_COLUMNS)


def test_concurrent_requests_are_merged_into_one_model_call(readmission_model):
    from services.serving.model_registry.batching import PredictionBatcher
    from services.serving.model_registry.served import readmission_frame
    from services.serving.model_registry.slot import ServedModel, thread_controller
    from services.serving.predict_schemas import PredictRequest
    from services.training.readmission_synthetic import generate_readmission

    gate, calls = threading.Event(), []

    def build_frame(records):
        gate.wait(10)  # hold the first call so the next requests queue up behind it
        calls.append(len(records))
        return readmission_frame(records)

    def served(version: str) -> ServedModel:
        return ServedModel(
            "readmission", version, "champion", readmission_model, 0.5, None, None, {}, None,
            "now", thread_controller(),
        )  # fmt: skip

    frame = generate_readmission(12, seed=4)[FEATURE_COLUMNS]
    records = PredictRequest.model_validate({"records": frame.to_dict("records")}).records
    v1, v2 = served("1"), served("2")
    batcher = PredictionBatcher(build_frame)
    try:
        first = batcher.submit(v1, records[:1])
        while not batcher._queue.empty():
            time.sleep(0.001)  # the worker holds the first request
        futures = [batcher.submit(v1, records[i : i + 3]) for i in (1, 4, 7)]
        other_model = batcher.submit(v2, records[10:])
        gate.set()
        results = [f.result(10) for f in (first, *futures, other_model)]
    finally:
        batcher.close()
    # The first call, then the three queued v1 requests as one call, then v2's on its own.
    assert calls == [1, 9, 2]
    expected = readmission_model.predict_proba(frame)[:, 1]
    np.testing.assert_allclose(np.concatenate(results), expected, atol=1e-12)

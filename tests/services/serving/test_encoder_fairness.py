"""Issue #16, item 1: one expensive text request cannot stall the others, and a saturated
encoder answers 503 with Retry-After instead of queueing without bound."""

from __future__ import annotations

import random
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from services.embeddings.encoder import TransformerEncoder, get_encoder
from services.serving.app import create_app
from tests.helpers import serve_in_thread

WORDS = (
    "kubernetes python nurse salary remote senior team shifts cloud data pipeline customer "
    "experience required skills growth benefits hospital engineering analytics security"
).split()


def _max_length_question(rng: random.Random) -> str:
    """A 1,000-character question (the API's maximum) that no cache has seen."""
    words: list[str] = []
    while len(" ".join(words)) < 990:
        words.append(rng.choice(WORDS))
    return (" ".join(words))[:999] + "?"


@pytest.fixture(scope="module")
def uncached_encoder(embedding_settings) -> TransformerEncoder:
    """The default encoder without its cache: every request pays for its encoding."""
    return get_encoder(embedding_settings.model_copy(update={"embedding_cache_size": 0}))


def test_three_max_length_questions_do_not_starve_a_short_request(
    serving_settings, corpus_db, uncached_encoder
):
    app = create_app(serving_settings, database=corpus_db, encoder=uncached_encoder)
    stop = threading.Event()
    statuses: list[int] = []

    def ask_long_questions(base_url: str, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=base_url, timeout=60) as client:
            while not stop.is_set():
                body = {"question": _max_length_question(rng), "top_k": serving_settings.max_top_k}
                statuses.append(client.post("/v1/job_qa", json=body).status_code)

    with serve_in_thread(app) as base_url:
        clients = [
            threading.Thread(target=ask_long_questions, args=(base_url, seed)) for seed in range(3)
        ]
        for thread in clients:
            thread.start()
        try:
            time.sleep(1.5)  # all three are encoding by now
            waits = []
            with httpx.Client(base_url=base_url, timeout=30) as client:
                for i in range(5):
                    started = time.perf_counter()
                    response = client.post(
                        "/v1/recommend_jobs", json={"text": f"python backend engineer {i}"}
                    )
                    waits.append(time.perf_counter() - started)
                    assert response.status_code == 200, response.text
        finally:
            stop.set()
            for thread in clients:
                thread.join(60)
    print(f"short requests under 3 long /v1/job_qa clients: {[round(w, 3) for w in waits]} s")
    assert max(waits) < 1.0
    assert statuses and set(statuses) <= {200, 503}, statuses
    assert 200 in statuses, "the long questions are answered too, not just refused"


def test_a_saturated_encoder_answers_503_with_retry_after(serving_settings, corpus_db):
    one_slot = {"embedding_workers": 1, "embedding_queue_seconds": 0.2, "embedding_cache_size": 0}
    encoder = TransformerEncoder(serving_settings.model_copy(update=one_slot))
    app = create_app(serving_settings, database=corpus_db, encoder=encoder)
    with TestClient(app) as client, encoder.slots.slot(10_000):  # another request holds it
        response = client.post("/v1/recommend_jobs", json={"text": "registered nurse nights"})
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        assert "busy" in response.json()["detail"]
        assert "nurse" not in response.text
    with TestClient(app) as client:  # freed: the same request succeeds
        assert (
            client.post("/v1/recommend_jobs", json={"text": "registered nurse"}).status_code == 200
        )

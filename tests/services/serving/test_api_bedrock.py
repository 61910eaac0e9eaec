"""POST /v1/job_qa with the Bedrock answerer, stubbed with botocore's Stubber (no AWS call)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import ANY, Stubber
from fastapi.testclient import TestClient

from services.jobs.answerers import SYSTEM_PROMPT, BedrockAnswerer
from services.jobs.search import hybrid_passages
from services.serving.app import create_app
from services.serving.settings import ServingSettings

MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
QUESTION = "Which jobs require Kubernetes experience?"


def converse_response(text: str) -> dict:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 900, "outputTokens": 60, "totalTokens": 960},
        "metrics": {"latencyMs": 420},
    }


def expected_request() -> dict:
    return {
        "modelId": MODEL_ID,
        "system": [{"text": SYSTEM_PROMPT}],
        "messages": ANY,
        "inferenceConfig": {"maxTokens": 512, "temperature": 0.0},
    }


@pytest.fixture
def bedrock():
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def api(bedrock, corpus_db, encoder) -> Iterator[TestClient]:
    client, _ = bedrock
    settings = ServingSettings(answer_backend="bedrock", bedrock_model_id=MODEL_ID)
    answerer = BedrockAnswerer(client, MODEL_ID)
    with TestClient(
        create_app(settings, database=corpus_db, encoder=encoder, answerer=answerer)
    ) as test_client:
        yield test_client


def _passages(corpus_db, encoder, top_k: int = 5):
    with corpus_db.connection() as conn:
        return hybrid_passages(conn, QUESTION, encoder.encode([QUESTION])[0], top_k).passages


def test_bedrock_answer_keeps_only_retrieved_citations(api, bedrock, corpus_db, encoder):
    _, stubber = bedrock
    passages = _passages(corpus_db, encoder)
    first, second = passages[0].job_id, passages[1].job_id
    model_text = (
        f"Kubernetes is required for the platform role [{first}] and for an SRE role [2]. "
        "A third posting also mentions it [job-424242]."
    )
    stubber.add_response("converse", converse_response(model_text), expected_request())
    response = api.post("/v1/job_qa", json={"question": QUESTION})
    assert response.status_code == 200, response.text
    body = response.json()
    # The invented id is dropped; the passage number is rewritten to that passage's job id.
    assert body["answer"] == (
        f"Kubernetes is required for the platform role [{first}] and for an SRE role "
        f"[{second}]. A third posting also mentions it."
    )
    assert [c["job_id"] for c in body["citations"]] == list(dict.fromkeys([first, second]))
    assert body["retrieval"]["answer_backend"] == "bedrock"


def test_bedrock_prompt_numbers_the_passages(bedrock, corpus_db, encoder):
    client, stubber = bedrock
    passages = _passages(corpus_db, encoder, top_k=3)
    prompt_seen = {}

    def capture(params, **_):
        prompt_seen["text"] = params["messages"][0]["content"][0]["text"]

    client.meta.events.register("provide-client-params.bedrock-runtime.Converse", capture)
    stubber.add_response("converse", converse_response("No answer here."), expected_request())
    answer = BedrockAnswerer(client, MODEL_ID).answer(QUESTION, passages)
    assert answer.text == "No answer here." and answer.citations == []
    for n, passage in enumerate(passages, start=1):
        assert f"Passage {n} [{passage.job_id}]" in prompt_seen["text"]
    assert prompt_seen["text"].endswith(f"Question: {QUESTION}")


def test_bedrock_failure_is_503(api, bedrock):
    _, stubber = bedrock
    stubber.add_client_error(
        "converse",
        service_error_code="ThrottlingException",
        service_message="slow down",
        http_status_code=429,
        expected_params=expected_request(),
    )
    response = api.post("/v1/job_qa", json={"question": QUESTION})
    assert response.status_code == 503
    assert response.json() == {"detail": "answer backend unavailable"}


def test_bedrock_backend_from_settings(corpus_db, encoder, monkeypatch):
    # The client is built from settings, but nothing is sent until a question arrives.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings = ServingSettings(answer_backend="bedrock", aws_region="eu-west-1")
    with TestClient(create_app(settings, database=corpus_db, encoder=encoder)) as client:
        assert client.get("/ready").json()["answer_backend"] == "bedrock"

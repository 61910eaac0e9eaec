"""Answer generation: extractive answers, citation cleaning, Bedrock via Stubber, end to end."""

from __future__ import annotations

import re

import boto3
import pytest
from botocore.stub import ANY, Stubber

from services.core.database import Database
from services.jobs.answerers import (
    NO_ANSWER,
    AnswerUnavailable,
    BedrockAnswerer,
    ExtractiveAnswerer,
    build_answerer,
    clean_citations,
    split_sentences,
)
from services.jobs.qa import answer_question
from services.jobs.search import Passage

CITED = re.compile(r"\[([^\[\]]+)\]")


def _passage(
    job_id: str, content: str, title: str = "Data Engineer", chunk_no: int = 0, score: float = 0.03
) -> Passage:
    return Passage(
        job_id=job_id, title=title, company="Acme", chunk_no=chunk_no, content=content, score=score
    )


PASSAGES = [
    _passage(
        "job-1",
        "We ship every week. You will run Kafka clusters and tune consumers. "
        "Free lunch on Fridays.",
        title="Streaming Engineer",
    ),
    _passage(
        "job-2",
        "You will design dbt models for finance. Experience with Snowflake is required.",
        title="Analytics Engineer",
    ),
    _passage(
        "job-3",
        "Our nurses work twelve-hour night shifts in the emergency department.",
        title="ER Nurse",
    ),
]


@pytest.fixture(scope="module")
def corpus(jobs_database_url):
    database = Database(jobs_database_url, min_size=1, max_size=2)
    yield database
    database.close()


def test_split_sentences_drops_fragments():
    assert split_sentences("Skills: go. A real sentence here!  Ok.") == ["A real sentence here!"]


def test_extractive_answer_picks_the_relevant_sentence_and_cites_it(encoder):
    answerer = ExtractiveAnswerer(encoder, max_sentences=1)
    answer = answerer.answer("Which job needs Snowflake experience?", PASSAGES)
    assert answer.text == (
        "Analytics Engineer (Acme): Experience with Snowflake is required [job-2]."
    )
    assert [(c.job_id, c.snippet) for c in answer.citations] == [
        ("job-2", "Experience with Snowflake is required.")
    ]


def test_extractive_answer_is_deterministic_and_cites_only_given_passages(encoder):
    answerer = ExtractiveAnswerer(encoder)
    first = answerer.answer("Who works night shifts?", PASSAGES)
    assert first == answerer.answer("Who works night shifts?", PASSAGES)
    cited = CITED.findall(first.text)
    assert cited[0] == "job-3"
    assert set(cited) == {c.job_id for c in first.citations} <= {p.job_id for p in PASSAGES}
    assert len(cited) == len(set(cited))  # one sentence per posting by default


def test_no_passages_no_answer(encoder):
    assert ExtractiveAnswerer(encoder).answer("anything?", []).text == NO_ANSWER


def test_clean_citations_drops_unknown_ids_and_maps_passage_numbers():
    text = "Kafka [job-1]. Snowflake [2][job-9]. Both [job-1, job-2]. Nurses [job-77; 3]."
    cleaned, cited = clean_citations(text, PASSAGES)
    assert cleaned == "Kafka [job-1]. Snowflake [job-2]. Both [job-1][job-2]. Nurses [job-3]."
    assert cited == ["job-1", "job-2", "job-3"]


def _converse(text: str) -> dict:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 5},
    }


@pytest.fixture
def stubbed():
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_bedrock_answerer_parses_and_filters(stubbed):
    client, stubber = stubbed
    stubber.add_response(
        "converse",
        _converse("Kafka is used by [job-1] and maybe by [job-404].\nSnowflake: [1, 2]."),
        {"modelId": "m", "system": ANY, "messages": ANY, "inferenceConfig": ANY},
    )
    answer = BedrockAnswerer(client, "m").answer("Which tools?", PASSAGES)
    assert answer.text == "Kafka is used by [job-1] and maybe by.\nSnowflake: [job-1][job-2]."
    assert [c.job_id for c in answer.citations] == ["job-1", "job-2"]
    assert answer.backend == "bedrock"


def test_bedrock_errors_become_answer_unavailable(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("converse", service_error_code="AccessDeniedException")
    with pytest.raises(AnswerUnavailable):
        BedrockAnswerer(client, "m").answer("Which tools?", PASSAGES)


def test_bedrock_is_not_called_without_passages(stubbed):
    client, _ = stubbed  # no response queued: a call would fail the stubber
    assert BedrockAnswerer(client, "m").answer("q?", []).text == NO_ANSWER


def test_build_answerer_rejects_unknown_backends(encoder):
    assert build_answerer("extractive", encoder).name == "extractive"
    with pytest.raises(ValueError, match="unknown answer backend"):
        build_answerer("gpt", encoder)


def test_answer_question_end_to_end(corpus, encoder):
    result = answer_question(
        corpus, encoder, ExtractiveAnswerer(encoder), "Which roles use Figma?", top_k=5
    )
    cited = set(CITED.findall(result.answer.text))
    assert cited and cited == {c.job_id for c in result.answer.citations}
    assert "figma" in result.answer.text.lower()
    with corpus.connection() as conn:
        skills = dict(
            conn.execute(
                "SELECT job_id, skills FROM job_postings WHERE job_id = ANY(%s)", (list(cited),)
            ).fetchall()
        )
    assert any("figma" in s for s in skills.values())
    assert result.retrieval["passages"] == 5

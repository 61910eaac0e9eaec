"""Answer generators for job Q&A: a local extractive one and Amazon Bedrock, both citing job ids."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from services.core.errors import Unavailable
from services.embeddings.encoder import Encoder
from services.jobs.search import Passage

log = logging.getLogger(__name__)

NO_ANSWER = "No job posting passages matched this question, so there is nothing to cite."
SNIPPET_CHARS = 280

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_BRACKETS = re.compile(r"\s?\[([^\[\]\n]{1,300})\]")


class AnswerUnavailable(Unavailable):
    """The answer backend failed (e.g. Bedrock throttled or unreachable); retry later."""

    public_message = "answer backend unavailable"


@dataclass(frozen=True)
class Citation:
    """A passage an answer relies on; score is the passage's fused retrieval score."""

    job_id: str
    title: str
    company: str
    chunk_no: int
    snippet: str
    score: float


@dataclass
class Answer:
    """Answer text citing job ids inline as `[job_id]`; every cited id is in `citations`."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    backend: str = ""


class Answerer(Protocol):
    """Turns a question and retrieved passages into an answer with citations."""

    name: str

    def answer(
        self,
        question: str,
        passages: Sequence[Passage],
        question_vector: np.ndarray | None = None,
    ) -> Answer:
        """Answer only from `passages`; `question_vector` is the retrieval's encoding of it."""
        ...


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rstrip() + "…"


def _citation(passage: Passage, snippet: str | None = None) -> Citation:
    return Citation(
        job_id=passage.job_id,
        title=passage.title,
        company=passage.company,
        chunk_no=passage.chunk_no,
        snippet=_snippet(snippet if snippet is not None else passage.content),
        score=round(passage.score, 6),
    )


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage; fragments under three words carry no answer and are dropped."""
    parts = (s.strip() for s in _SENTENCE_END.split(" ".join(text.split())))
    return [s for s in parts if len(s.split()) >= 3]


class ExtractiveAnswerer:
    """Picks the passage sentences closest to the question (by embedding) and cites them.

    Deterministic: the same question and passages give the same answer. It never writes a
    sentence that is not in a posting, so it cannot state anything the postings do not say.
    """

    name = "extractive"

    def __init__(
        self,
        encoder: Encoder,
        *,
        max_sentences: int = 3,
        max_per_job: int = 1,
        max_candidates: int = 200,
    ) -> None:
        self.encoder = encoder
        self.max_sentences = max_sentences
        self.max_per_job = max_per_job
        self.max_candidates = max_candidates

    def answer(
        self,
        question: str,
        passages: Sequence[Passage],
        question_vector: np.ndarray | None = None,
    ) -> Answer:
        """Stitch the best sentences into a short answer, each followed by its `[job_id]`.

        The question is encoded once (retrieval already did it: pass `question_vector`) and
        never batched with the sentences, so a long question does not pad every sentence to
        its length; the sentences go through the encoder's length-sorted batches and cache.
        """
        candidates = [
            (p_index, sentence)
            for p_index, passage in enumerate(passages)
            for sentence in split_sentences(passage.content)
        ][: self.max_candidates]
        if not candidates:
            return Answer(NO_ANSWER, [], self.name)
        if question_vector is None:
            question_vector = self.encoder.encode([question])[0]
        vectors = self.encoder.encode([s for _, s in candidates])
        similarity = vectors @ np.asarray(question_vector, dtype=np.float32)
        # Stable sort: equal similarities keep passage (retrieval) order.
        order = np.argsort(-similarity, kind="stable")
        chosen: list[tuple[int, str]] = []
        per_job: dict[str, int] = {}
        seen: set[str] = set()
        for i in order:
            p_index, sentence = candidates[int(i)]
            job_id = passages[p_index].job_id
            key = sentence.lower()
            if key in seen or per_job.get(job_id, 0) >= self.max_per_job:
                continue
            seen.add(key)
            per_job[job_id] = per_job.get(job_id, 0) + 1
            chosen.append((p_index, sentence))
            if len(chosen) == self.max_sentences:
                break
        parts = []
        cited: dict[tuple[str, int], Citation] = {}
        for p_index, sentence in chosen:
            passage = passages[p_index]
            parts.append(self._format(passage, sentence))
            cited.setdefault((passage.job_id, passage.chunk_no), _citation(passage, sentence))
        return Answer(" ".join(parts), list(cited.values()), self.name)

    @staticmethod
    def _format(passage: Passage, sentence: str) -> str:
        body = sentence.rstrip(" .!?;:")
        # Sentences from a posting body do not say which job they are from; name it.
        if passage.title.lower() not in body.lower():
            body = f"{passage.title} ({passage.company}): {body}"
        return f"{body} [{passage.job_id}]."


SYSTEM_PROMPT = (
    "You answer questions about job postings using ONLY the numbered passages the user "
    "provides. Every passage is labelled with its job id in square brackets, like "
    "[job-000123]. After each statement, cite the job id(s) it comes from in square brackets, "
    "exactly as written in the passage labels. Do not use outside knowledge. If the passages "
    "do not contain the answer, say so briefly. Keep the answer under 120 words."
)


def build_prompt(question: str, passages: Sequence[Passage]) -> str:
    """The user message: numbered passages labelled with their job id, then the question."""
    blocks = [
        f"Passage {n} [{p.job_id}] — {p.title} at {p.company}:\n{' '.join(p.content.split())}"
        for n, p in enumerate(passages, start=1)
    ]
    return "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question.strip()}"


def clean_citations(text: str, passages: Sequence[Passage]) -> tuple[str, list[str]]:
    """Keep only bracketed citations of retrieved job ids; return the text and ids in order.

    Models sometimes cite the passage number (`[2]`) instead of the id; those are rewritten to
    the id. Anything else in brackets that is not a retrieved id (an invented or misspelled
    id) is dropped, so the answer never points at a posting the reader cannot check.
    """
    known = {p.job_id for p in passages}
    cited: list[str] = []

    def replace(match: re.Match[str]) -> str:
        kept = []
        for token in re.split(r"[,;]\s*|\s+and\s+", match.group(1)):
            token = token.strip().strip("\"'")
            if token.isdigit() and 1 <= int(token) <= len(passages):
                token = passages[int(token) - 1].job_id
            if token in known and token not in kept:
                kept.append(token)
        for job_id in kept:
            if job_id not in cited:
                cited.append(job_id)
        if not kept:
            return ""
        return " " + "".join(f"[{job_id}]" for job_id in kept)

    cleaned = _BRACKETS.sub(replace, text)
    return re.sub(r"[ \t]{2,}", " ", cleaned).strip(), cited


class BedrockAnswerer:
    """Amazon Bedrock (Converse API) answering from the numbered passages only."""

    name = "bedrock"

    def __init__(
        self, client: Any, model_id: str, *, max_tokens: int = 512, temperature: float = 0.0
    ) -> None:
        self.client = client
        self.model_id = model_id
        self.max_tokens = max_tokens
        self.temperature = temperature

    def answer(
        self,
        question: str,
        passages: Sequence[Passage],
        question_vector: np.ndarray | None = None,
    ) -> Answer:
        """Ask the model, then keep only citations of retrieved job ids."""
        if not passages:
            return Answer(NO_ANSWER, [], self.name)
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.converse(
                modelId=self.model_id,
                system=[{"text": SYSTEM_PROMPT}],
                messages=[
                    {"role": "user", "content": [{"text": build_prompt(question, passages)}]}
                ],
                inferenceConfig={"maxTokens": self.max_tokens, "temperature": self.temperature},
            )
        except (ClientError, BotoCoreError) as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            log.warning("bedrock converse failed", extra={"error": code, "model": self.model_id})
            raise AnswerUnavailable("answer backend unavailable") from exc
        blocks = response.get("output", {}).get("message", {}).get("content", [])
        raw = "".join(block.get("text", "") for block in blocks).strip()
        text, cited = clean_citations(raw, passages)
        best: dict[str, Passage] = {}
        for passage in passages:  # passages arrive best first: keep each job's best passage
            best.setdefault(passage.job_id, passage)
        return Answer(text or NO_ANSWER, [_citation(best[j]) for j in cited], self.name)


def build_answerer(
    backend: str,
    encoder: Encoder,
    *,
    model_id: str = "",
    client: Any = None,
    region: str | None = None,
) -> Answerer:
    """The answerer named by `backend` (`extractive` or `bedrock`)."""
    if backend == "extractive":
        return ExtractiveAnswerer(encoder)
    if backend == "bedrock":
        if client is None:
            import boto3

            client = boto3.client("bedrock-runtime", region_name=region)
        return BedrockAnswerer(client, model_id)
    raise ValueError(f"unknown answer backend {backend!r}; choose extractive or bedrock")

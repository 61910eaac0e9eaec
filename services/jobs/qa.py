"""Job Q&A: hybrid retrieval over posting chunks, then an answerer that cites job ids."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from services.core.database import Database
from services.embeddings.encoder import Encoder
from services.jobs.answerers import Answer, Answerer
from services.jobs.search import HYBRID_CANDIDATES, RRF_K, SearchFilters, hybrid_passages


@dataclass
class QAResult:
    """The answer and what retrieval did to find its passages."""

    answer: Answer
    retrieval: dict[str, Any]


def answer_question(
    db: Database,
    encoder: Encoder,
    answerer: Answerer,
    question: str,
    *,
    top_k: int = 5,
    filters: SearchFilters | None = None,
    candidates: int = HYBRID_CANDIDATES,
    ef_search: int = 100,
) -> QAResult:
    """Retrieve the best `top_k` passages for `question` and answer from them alone."""
    started = time.perf_counter()
    vector = encoder.encode([question])[0]
    encoded = time.perf_counter()
    # The pooled connection is released before answering: a Bedrock call can take seconds.
    with db.connection() as conn:
        hits = hybrid_passages(
            conn, question, vector, top_k, filters, candidates=candidates, ef_search=ef_search
        )
    retrieved = time.perf_counter()
    answer = answerer.answer(question, hits.passages, question_vector=vector)
    answered = time.perf_counter()
    return QAResult(
        answer=answer,
        retrieval={
            "method": "hybrid_rrf",
            "rrf_k": RRF_K,
            "vector_candidates": hits.vector_candidates,
            "text_candidates": hits.text_candidates,
            "fused_candidates": hits.fused_candidates,
            "passages": len(hits.passages),
            "answer_backend": answerer.name,
            "timings_ms": {
                "encode": round((encoded - started) * 1000, 1),
                "retrieve": round((retrieved - encoded) * 1000, 1),
                "answer": round((answered - retrieved) * 1000, 1),
            },
        },
    )

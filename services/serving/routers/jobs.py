"""Jobs workload endpoints: recommendations, Q&A with citations, resume-job match."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends

from services.jobs.match import classify_sides
from services.jobs.match_features import (
    MODEL_METHOD,
    MatchDoc,
    feature_frame,
    match_documents,
    pair_features,
)
from services.jobs.qa import answer_question
from services.jobs.search import SearchFilters, recommend_for_resume, recommend_for_text
from services.serving.context import Services, get_services
from services.serving.deprecation import versioned
from services.serving.errors import top_k_error
from services.serving.model_registry.slot import ServedModel
from services.serving.schemas import (
    CitationOut,
    JobResult,
    MatchFeatures,
    MatchModelRef,
    MatchRequest,
    MatchResponse,
    QARequest,
    QAResponse,
    RecommendQuery,
    RecommendRequest,
    RecommendResponse,
)

router = APIRouter(tags=["jobs"])
ServicesDep = Annotated[Services, Depends(get_services)]

_ERRORS = {
    404: {"description": "The resume or posting id does not exist."},
    409: {"description": "The resume or posting has not been embedded yet."},
    503: {"description": "The database, answer backend or encoder is unavailable or busy; retry."},
}


def _check_top_k(top_k: int, svc: Services) -> None:
    if top_k > svc.settings.max_top_k:
        raise top_k_error(top_k, svc.settings.max_top_k)


@versioned(router, "POST", "/recommend_jobs", response_model=RecommendResponse, responses=_ERRORS)
def recommend_jobs(body: RecommendRequest, svc: ServicesDep) -> RecommendResponse:
    """Postings nearest to a resume (stored id, or pasted text), optionally filtered."""
    _check_top_k(body.top_k, svc)
    filters = body.filters.to_search() if body.filters else SearchFilters()
    ef_search = svc.settings.hnsw_ef_search
    if body.resume_id is not None:
        hits = recommend_for_resume(
            svc.db, body.resume_id, body.top_k, filters, ef_search=ef_search
        )
    else:
        hits = recommend_for_text(
            svc.db,
            svc.encoder,
            body.text or "",
            body.top_k,
            filters,
            chunk_words=svc.settings.chunk_words,
            overlap_words=svc.settings.chunk_overlap_words,
            ef_search=ef_search,
        )
    return RecommendResponse(
        query=RecommendQuery(
            resume_id=body.resume_id,
            text_chars=len(body.text) if body.text is not None else None,
            top_k=body.top_k,
            filters=filters.as_dict(),
        ),
        results=[JobResult(**asdict(hit)) for hit in hits],
        model=svc.encoder.identity,
    )


@versioned(router, "POST", "/job_qa", response_model=QAResponse, responses=_ERRORS)
def job_qa(body: QARequest, svc: ServicesDep) -> QAResponse:
    """Answer a question from posting passages (hybrid retrieval), citing job ids inline."""
    _check_top_k(body.top_k, svc)
    result = answer_question(
        svc.db,
        svc.encoder,
        svc.answerer,
        body.question,
        top_k=body.top_k,
        filters=body.filters.to_search() if body.filters else None,
        ef_search=svc.settings.hnsw_ef_search,
    )
    return QAResponse(
        answer=result.answer.text,
        citations=[CitationOut(**asdict(c)) for c in result.answer.citations],
        retrieval=result.retrieval,
    )


@versioned(
    router,
    "POST",
    "/classify_match",
    response_model=MatchResponse,
    response_model_exclude_none=True,
    responses=_ERRORS,
)
def classify_match(body: MatchRequest, svc: ServicesDep) -> MatchResponse:
    """Does the resume fit the posting? The registered classifier when one has the alias,
    else the calibrated similarity rule; `method` (and `model`) say which answered."""
    served = svc.models.match.current  # held for the whole request: swaps cannot affect it
    resume, posting = match_documents(
        svc.db,
        svc.encoder,
        svc.vocabulary,
        resume_id=body.resume_id,
        resume_text=body.resume_text,
        job_id=body.job_id,
        job_text=body.job_text,
        chunk_words=svc.settings.chunk_words,
        overlap_words=svc.settings.chunk_overlap_words,
    )
    if served is not None:
        return _classify_with_model(resume, posting, served)
    result = classify_sides(resume, posting)
    return MatchResponse(
        label=result.label,  # type: ignore[arg-type]
        probability=round(result.probability, 6),
        method=result.method,
        features=MatchFeatures(
            similarity=round(result.similarity, 6), skill_overlap=round(result.skill_overlap, 6)
        ),
    )


def _classify_with_model(resume: MatchDoc, posting: MatchDoc, served: ServedModel) -> MatchResponse:
    features = pair_features(resume, posting)
    probability = float(served.predict_proba(feature_frame([features]))[0])
    return MatchResponse(
        label="match" if probability >= served.threshold else "no_match",
        probability=round(probability, 6),
        method=MODEL_METHOD,
        features=MatchFeatures(
            **{k: None if math.isnan(v) else round(v, 6) for k, v in features.items()}
        ),
        model=MatchModelRef(name=served.name, version=served.version, alias=served.alias),
    )

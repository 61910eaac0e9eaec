"""Events workload endpoints: recommendations with A/B variants, feedback, experiments, retrain."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Request
from starlette.concurrency import run_in_threadpool

from services.recommender.experiments import (
    Experiment,
    ExperimentExists,
    ExperimentNotFound,
    Variant,
    create_experiment,
    experiment_results,
    list_experiments,
)
from services.recommender.service import Query, RecommendationNotFound, record_feedback, serve_list
from services.serving.context import ServiceStarting
from services.serving.events_runtime import EventsRuntime, RetrainRunning
from services.serving.events_schemas import (
    SLUG,
    ExperimentCreate,
    FeedbackRequest,
    RecommendationRequest,
    RecommendationResponse,
    RetrainStarted,
)

router = APIRouter(prefix="/v1", tags=["events"])

_ADMIN = {
    401: {"description": "No X-Admin-Key header."},
    403: {"description": "Wrong key, or no admin key configured (BEACON_ADMIN_API_KEY)."},
}


def get_events(request: Request) -> EventsRuntime:
    """The events runtime, or 503 while the app is starting (FastAPI dependency)."""
    runtime = getattr(request.app.state, "events", None)
    if runtime is None:
        raise ServiceStarting("service is starting; retry shortly")
    return runtime


EventsDep = Annotated[EventsRuntime, Depends(get_events)]


def require_admin(
    events: EventsDep,
    x_admin_key: Annotated[str | None, Header(description="The admin API key.")] = None,
) -> None:
    """401 without a key, 403 with a wrong one or when no key is configured (FastAPI dep)."""
    configured = events.settings.admin_api_key
    if configured is None or not configured.get_secret_value():
        raise HTTPException(403, "admin endpoints are disabled: set BEACON_ADMIN_API_KEY")
    if x_admin_key is None:
        raise HTTPException(401, "missing X-Admin-Key header", {"WWW-Authenticate": "X-Admin-Key"})
    if not secrets.compare_digest(x_admin_key.encode(), configured.get_secret_value().encode()):
        raise HTTPException(403, "invalid API key")


AdminDep = Depends(require_admin)


@router.post(
    "/recommendations",
    response_model=RecommendationResponse,
    responses={503: {"description": "No events model yet (the body says how to train one)."}},
)
def recommendations(body: RecommendationRequest, events: EventsDep) -> dict[str, Any]:
    """Upcoming events for a user, ranked by the algorithm of their A/B variant.

    Unknown users get a cold start (popular events in the given city, or their home city).
    The list is logged with its variant; send feedback with its `recommendation_id`.
    """
    served = events.slot.require()  # held for the whole request: a swap cannot affect it
    query = Query(
        user_id=body.user_id,
        top_k=body.top_k,
        city=body.city,
        date_from=body.date_from,
        date_to=body.date_to,
        experiment_id=body.experiment_id,
    )
    try:
        with events.db.connection() as conn:
            result = serve_list(
                conn,
                served.estimator,
                model_name=served.name,
                model_version=served.version,
                query=query,
                catalogue=events.catalogue.get(),
                default_algorithm=events.settings.rec_default_algorithm,
                cache_ttl=events.settings.rec_cache_ttl_seconds,
            )
    except ExperimentNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    out = asdict(result)
    out["model"] = {"name": out.pop("model_name"), "version": out.pop("model_version")}
    return out


@router.post("/feedback", status_code=201, responses={404: {"description": "Unknown list."}})
def feedback(body: FeedbackRequest, events: EventsDep) -> dict[str, Any]:
    """Record a view, save, purchase or dismissal of an event from a served list."""
    try:
        with events.db.connection() as conn:
            return record_feedback(conn, str(body.recommendation_id), body.event_id, body.action)
    except RecommendationNotFound as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/experiments")
def experiments(events: EventsDep) -> dict[str, Any]:
    """Every experiment, newest first."""
    with events.db.connection() as conn:
        return {"experiments": [_jsonable(e) for e in list_experiments(conn)]}


@router.post("/experiments", status_code=201, responses=_ADMIN, dependencies=[AdminDep])
def new_experiment(body: ExperimentCreate, events: EventsDep) -> dict[str, Any]:
    """Create an experiment (admin). Users are assigned by hashing user id and experiment id."""
    experiment = Experiment(
        experiment_id=body.experiment_id,
        name=body.name,
        description=body.description,
        variants=tuple(Variant(v.name, v.algorithm, v.weight) for v in body.variants),
        goal=body.goal,
        status=body.status,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
    )
    try:
        with events.db.connection() as conn:
            return _jsonable(create_experiment(conn, experiment))
    except ExperimentExists as exc:
        raise HTTPException(409, str(exc)) from None


@router.get("/experiments/{experiment_id}/results", responses={404: {"description": "Unknown."}})
def results(experiment_id: Annotated[str, Path(pattern=SLUG)], events: EventsDep) -> dict[str, Any]:
    """Per variant: exposures, conversions, rate; lift vs control with a 95 % CI and p-value
    (two-proportion z-test); and a sample-ratio-mismatch check of the assignment."""
    try:
        with events.db.connection() as conn:
            return experiment_results(conn, experiment_id)
    except ExperimentNotFound as exc:
        raise HTTPException(404, str(exc)) from None


@router.post(
    "/model/retrain",
    status_code=202,
    response_model=RetrainStarted,
    responses={**_ADMIN, 409: {"description": "A retraining job is already running."}},
    dependencies=[AdminDep],
)
async def retrain(events: EventsDep) -> RetrainStarted:
    """Start retraining the events models on interactions and feedback so far (admin)."""
    try:
        job_id = await run_in_threadpool(events.start_retrain)
    except RetrainRunning as exc:
        raise HTTPException(409, str(exc)) from None
    return RetrainStarted(job_id=job_id, status="running")


@router.get("/model/retrain/{job_id}", responses={404: {"description": "Unknown job."}})
def retrain_status(job_id: str, events: EventsDep) -> dict[str, Any]:
    """Status of a retraining job: running, succeeded (version, promoted, metrics) or failed."""
    import uuid

    try:
        uuid.UUID(job_id)
    except ValueError:
        raise HTTPException(404, f"no retraining job {job_id}") from None
    status = events.retrain_status(job_id)
    if status is None:
        raise HTTPException(404, f"no retraining job {job_id}")
    return status


def _jsonable(experiment: Experiment) -> dict[str, Any]:
    return experiment.as_dict()

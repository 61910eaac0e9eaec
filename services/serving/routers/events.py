"""Events workload endpoints: recommendations with A/B variants, feedback, experiments, retrain."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from services.core.errors import Forbidden, NotFound, Unauthenticated
from services.recommender.experiments import (
    Experiment,
    Variant,
    experiment_results,
    list_experiments,
)
from services.recommender.lifecycle import (
    create_alone,
    start_experiment,
    stop_experiment,
)
from services.recommender.service import (
    Query,
    list_owner,
    record_feedback,
    serve_list,
    undo_dismissal,
)
from services.serving.client_identity import ClientDep, bind_user, check_list_owner
from services.serving.context import ServiceStarting
from services.serving.events_runtime import EventsRuntime
from services.serving.events_schemas import (
    ID,
    SLUG,
    ExperimentCreate,
    ExperimentList,
    ExperimentOut,
    ExperimentResults,
    FeedbackRequest,
    FeedbackResponse,
    RecommendationRequest,
    RecommendationResponse,
    RetrainStarted,
    RetrainStatus,
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
        raise Forbidden("admin endpoints are disabled: set BEACON_ADMIN_API_KEY")
    if x_admin_key is None:
        raise Unauthenticated("missing X-Admin-Key header", challenge="X-Admin-Key")
    if not secrets.compare_digest(x_admin_key.encode(), configured.get_secret_value().encode()):
        raise Forbidden("invalid API key")


AdminDep = Depends(require_admin)
_UNKNOWN_EXPERIMENT = {404: {"description": "Unknown experiment."}}
_CLIENT = {
    401: {"description": "No X-Beacon-Client header (required in deployed mode)."},
    403: {"description": "The user or list belongs to another client."},
}


@router.post(
    "/recommendations",
    response_model=RecommendationResponse,
    responses={
        **_CLIENT,
        404: {"description": "Unknown experiment_id."},
        503: {"description": "No events model yet (the body says how to train one)."},
    },
)
def recommendations(
    body: RecommendationRequest, events: EventsDep, client: ClientDep
) -> dict[str, Any]:
    """Upcoming events for a user, ranked by the algorithm of their A/B variant.

    Unknown users get a cold start (popular events in the given city, or their home city).
    The list is logged with its variant; send feedback with its `recommendation_id`.
    In deployed mode (BEACON_REQUIRE_CLIENT_IDENTITY) a user id belongs to the API client
    that first asked for it; locally anyone may read any user's list.
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
    with events.db.connection() as conn:
        bind_user(conn, client, body.user_id)
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
    out = asdict(result)
    out["model"] = {"name": out.pop("model_name"), "version": out.pop("model_version")}
    return out


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackResponse,
    responses={**_CLIENT, 404: {"description": "Unknown list."}},
)
def feedback(body: FeedbackRequest, events: EventsDep, client: ClientDep) -> dict[str, Any]:
    """Record a view, save, purchase or dismissal of an event from a served list.

    Idempotent per (list, event, action): a repeat is not stored again and answers with
    `duplicate: true`. The event must be in the list; the feedback belongs to the list's user.
    """
    recommendation_id = str(body.recommendation_id)
    with events.db.connection() as conn:
        check_list_owner(conn, client, list_owner(conn, recommendation_id))
        return record_feedback(conn, recommendation_id, body.event_id, body.action)


@router.delete(
    "/recommendations/{recommendation_id}/dismissals/{event_id}",
    status_code=204,
    responses={**_CLIENT, 404: {"description": "Unknown list, or no dismissal to undo."}},
)
def undo_dismiss(
    recommendation_id: UUID,
    event_id: Annotated[str, Path(**ID)],
    events: EventsDep,
    client: ClientDep,
) -> Response:
    """Undo the list's user's dismissal of an event: it may be recommended again."""
    with events.db.connection() as conn:
        check_list_owner(conn, client, list_owner(conn, str(recommendation_id)))
        removed = undo_dismissal(conn, str(recommendation_id), event_id)
    if not removed:
        raise NotFound(f"event_id: no dismissal of {event_id!r} to undo")
    return Response(status_code=204)


@router.get("/experiments", response_model=ExperimentList)
def experiments(events: EventsDep) -> dict[str, Any]:
    """Every experiment, newest first."""
    with events.db.connection() as conn:
        return {"experiments": [_jsonable(e) for e in list_experiments(conn)]}


_CONFLICT = {409: {"description": "Another experiment is running in an overlapping window."}}


@router.post(
    "/experiments",
    status_code=201,
    response_model=ExperimentOut,
    responses={
        **_ADMIN,
        409: {
            "description": "The id is taken, or another experiment is "
            "running in an overlapping window."
        },
    },
    dependencies=[AdminDep],
)
def new_experiment(body: ExperimentCreate, events: EventsDep) -> dict[str, Any]:
    """Create an experiment (admin). Users are assigned by hashing user id and experiment id.

    At most one experiment runs at a time: creating a running one while another running
    experiment's window overlaps is a 409 (stop that one first, or create this one as draft).
    """
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
    with events.db.connection() as conn:
        return _jsonable(create_alone(conn, experiment))


@router.post(
    "/experiments/{experiment_id}/start",
    response_model=ExperimentOut,
    responses={**_ADMIN, **_UNKNOWN_EXPERIMENT, **_CONFLICT},
    dependencies=[AdminDep],
)
def start(experiment_id: Annotated[str, Path(pattern=SLUG)], events: EventsDep) -> dict[str, Any]:
    """Set a draft or stopped experiment running (admin); 409 if another one is running."""
    with events.db.connection() as conn:
        return _jsonable(start_experiment(conn, experiment_id))


@router.post(
    "/experiments/{experiment_id}/stop",
    response_model=ExperimentOut,
    responses={**_ADMIN, **_UNKNOWN_EXPERIMENT},
    dependencies=[AdminDep],
)
def stop(experiment_id: Annotated[str, Path(pattern=SLUG)], events: EventsDep) -> dict[str, Any]:
    """Stop an experiment (admin): no more users are assigned; results stay readable."""
    with events.db.connection() as conn:
        return _jsonable(stop_experiment(conn, experiment_id))


@router.get(
    "/experiments/{experiment_id}/results",
    response_model=ExperimentResults,
    responses=_UNKNOWN_EXPERIMENT,
)
def results(experiment_id: Annotated[str, Path(pattern=SLUG)], events: EventsDep) -> dict[str, Any]:
    """Per variant: exposures, conversions, rate; lift vs control with a 95 % CI and p-value
    (two-proportion z-test); and a sample-ratio-mismatch check of the assignment."""
    with events.db.connection() as conn:
        return experiment_results(conn, experiment_id)


@router.post(
    "/model/retrain",
    status_code=202,
    response_model=RetrainStarted,
    responses={**_ADMIN, 409: {"description": "A retraining job is already running."}},
    dependencies=[AdminDep],
)
async def retrain(events: EventsDep) -> RetrainStarted:
    """Start retraining the events models on interactions and feedback so far (admin)."""
    job_id = await run_in_threadpool(events.start_retrain)
    return RetrainStarted(job_id=job_id, status="running")


@router.get(
    "/model/retrain/{job_id}",
    response_model=RetrainStatus,
    responses={404: {"description": "Unknown job."}},
)
def retrain_status(job_id: UUID, events: EventsDep) -> dict[str, Any]:
    """Status of a retraining job: running, succeeded (version, promoted, metrics) or failed."""
    status = events.retrain_status(str(job_id))
    if status is None:
        raise NotFound(f"no retraining job {job_id}")
    return status


def _jsonable(experiment: Experiment) -> dict[str, Any]:
    return experiment.as_dict()

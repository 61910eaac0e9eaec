"""Liveness, readiness and Prometheus metrics endpoints."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from services.serving.context import ServingContext, get_context
from services.serving.ops_metrics import readiness

router = APIRouter(tags=["operations"])
ContextDep = Annotated[ServingContext, Depends(get_context)]


class HealthResponse(BaseModel):
    """The process is alive."""

    status: str


class ReadyResponse(BaseModel):
    """Ready (200) or not (503, with the reason)."""

    status: str
    reason: str | None = None
    model: str | None = None
    answer_backend: str | None = None


@router.get("/health", summary="The process is alive", response_model=HealthResponse)
async def health() -> dict[str, str]:
    """Always 200 while the process runs; says nothing about dependencies (that is /ready).

    Async on purpose: it runs on the event loop, never touches the database or the thread
    pool, so a stalled database cannot make a load balancer kill a live task.
    """
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="The service can answer requests",
    response_model=ReadyResponse,
    responses={503: {"description": "Not ready; the body says why.", "model": ReadyResponse}},
)
async def ready(ctx: ContextDep) -> JSONResponse:
    """200 when the encoder is loaded and the database answers a query within the readiness
    timeout (BEACON_READY_TIMEOUT), else 503 with a reason."""
    ok, reason = False, "database unavailable"
    # Own small thread limiter: a stalled database cannot take /ready's threads from requests.
    with anyio.move_on_after(ctx.settings.ready_timeout * 2):
        ok, reason = await anyio.to_thread.run_sync(
            readiness, ctx, limiter=ctx.ready_limiter, abandon_on_cancel=True
        )
    if not ok:
        return JSONResponse({"status": "not_ready", "reason": reason}, 503)
    return JSONResponse(
        {"status": "ready", "model": ctx.encoder.identity, "answer_backend": ctx.answerer.name}
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}}},
)
def metrics(ctx: ContextDep) -> Response:
    """Request counts and latency per route and status, document and embedding counts."""
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)

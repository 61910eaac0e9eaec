"""Liveness, readiness and Prometheus metrics endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.serving.context import ServingContext, get_context
from services.serving.ops_metrics import readiness

router = APIRouter(tags=["operations"])
ContextDep = Annotated[ServingContext, Depends(get_context)]


@router.get("/health", summary="The process is alive")
def health() -> dict[str, str]:
    """Always 200 while the process runs; says nothing about dependencies (that is /ready)."""
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="The service can answer requests",
    responses={503: {"description": "Not ready; the body says why."}},
)
def ready(ctx: ContextDep) -> JSONResponse:
    """200 when the encoder is loaded and the database answers a query, else 503 with a reason."""
    ok, reason = readiness(ctx)
    if not ok:
        return JSONResponse({"status": "not_ready", "reason": reason}, 503)
    return JSONResponse(
        {"status": "ready", "model": ctx.encoder.identity, "answer_backend": ctx.answerer.name}
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(ctx: ContextDep) -> Response:
    """Request counts and latency per route and status, document and embedding counts."""
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)

"""The FastAPI app factory: `uvicorn services.serving.app:create_app --factory`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from services.core.database import Database
from services.embeddings.encoder import Encoder
from services.jobs.answerers import Answerer, build_answerer
from services.recommender.settings import RecommenderSettings
from services.serving.context import ServingContext
from services.serving.errors import install_error_handlers
from services.serving.metrics import Metrics
from services.serving.middleware import RequestMiddleware
from services.serving.model_registry.served import build_served_models
from services.serving.openapi_errors import document_errors
from services.serving.prediction_log import PredictionLog
from services.serving.routers import events, health, jobs, predict
from services.serving.settings import ServingSettings, get_serving_settings

log = logging.getLogger(__name__)

#: Request bodies above this are refused before parsing (documents are capped far lower).
MAX_BODY_BYTES = 256 * 1024
#: Environments that serve the interactive /docs pages unless BEACON_API_DOCS says otherwise.
LOCAL_ENVS = ("local", "test")


def create_app(
    settings: ServingSettings | None = None,
    *,
    database: Database | None = None,
    encoder: Encoder | None = None,
    answerer: Answerer | None = None,
    recommender: RecommenderSettings | None = None,
) -> FastAPI:
    """Build the API.

    Anything passed in (database, encoder, answerer) is used as is and left open at shutdown;
    anything missing is created by the lifespan (database via `Database.from_settings`, which
    migrates; the encoder from settings) and closed at shutdown. Registry models (readmission,
    job match) load from `models:/<name>@<model_alias>` and are polled for hot swaps. Called
    without settings, as the uvicorn factory is, it also configures process logging from the
    settings.
    """
    if settings is None:
        from services.core.logging import configure_logging

        settings = get_serving_settings()
        configure_logging(settings)

    context: ServingContext

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context.ready_limiter = anyio.CapacityLimiter(2)
        await run_in_threadpool(_open, context, database, encoder, answerer)
        app.state.events = await run_in_threadpool(_open_events, context, recommender)
        try:
            yield
        finally:
            for resource in reversed(context.owned):
                await run_in_threadpool(resource.close)
            context.owned.clear()

    docs = settings.api_docs if settings.api_docs is not None else settings.env in LOCAL_ENVS
    app = FastAPI(
        title="Beacon API",
        summary="Job recommendations, job Q&A with citations, resume-job matching and "
        "readmission predictions from the model registry.",
        version="0.1.0",
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
        # The interactive pages load Swagger UI / ReDoc from a CDN: local use only by default.
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
    )
    context = ServingContext(settings=settings, metrics=Metrics(lambda: context.db))
    app.state.context = context
    context.metrics.registry.register(_ops_collector(context))
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(jobs.router)
    app.include_router(predict.router)
    app.include_router(events.router)
    document_errors(app, max_top_k=settings.max_top_k)
    if settings.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "X-Request-Id", "X-Admin-Key"],
        )
    app.add_middleware(RequestMiddleware, metrics=context.metrics)
    return app


def _open(
    context: ServingContext,
    database: Database | None,
    encoder: Encoder | None,
    answerer: Answerer | None,
) -> None:
    settings = context.settings
    if database is None:
        database = Database.from_settings(settings)
        context.owned.append(database)
    context.db = database
    if settings.prediction_log:
        context.prediction_log = PredictionLog(
            database,
            context.metrics,
            max_queue=settings.prediction_log_queue,
            flush_seconds=settings.prediction_log_flush_seconds,
        )
        context.owned.append(context.prediction_log)
    context.encoder = encoder if encoder is not None else _load_encoder(settings)
    context.answerer = answerer or build_answerer(
        settings.answer_backend,
        context.encoder,
        model_id=settings.bedrock_model_id,
        region=settings.aws_region,
    )
    # Registry models load last and never fail start-up: without a champion their endpoints
    # answer 503 with what to run, and the poller picks a version up when one is promoted.
    models = build_served_models(settings, context.metrics)
    context.owned.append(models)
    models.start()
    context.models = models
    log.info(
        "api ready to serve",
        extra={
            "model": context.encoder.identity,
            "answer_backend": context.answerer.name,
            "served_models": {
                role: slot.current.version if slot.current else None
                for role, slot in models.slots().items()
            },
        },
    )


def _open_events(context: ServingContext, recommender: RecommenderSettings | None) -> Any:
    from services.serving.events_runtime import open_events

    settings = context.settings
    # Without explicit settings, the events workload shares the API's home and MLflow store.
    recommender = recommender or RecommenderSettings(
        home=settings.home, mlflow_tracking_uri=settings.mlflow_tracking_uri
    )
    runtime = open_events(
        context.db,
        settings=recommender,
        alias=settings.model_alias,
        poll_seconds=settings.model_poll_seconds,
        on_outcome=context.metrics.model_outcome,
        on_error=context.metrics.registry_error,
    )
    context.owned.append(runtime)
    return runtime


def _load_encoder(settings: ServingSettings) -> Any:
    from services.embeddings.encoder import get_encoder

    return get_encoder(settings)


def _ops_collector(context: ServingContext) -> Any:
    from services.drift.settings import DriftSettings
    from services.serving.ops_metrics import OpsCollector

    settings = context.settings
    # Drift reports are found where the drift job writes them with the API's home and storage.
    drift = DriftSettings(home=settings.home, storage_uri=settings.storage_uri)
    return OpsCollector(context, drift.resolved_reports_uri, settings.resolved_storage_uri)

"""What request handlers share: settings, database, encoder, answerer, models, caches, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request

from services.core.database import Database
from services.core.errors import Unavailable
from services.embeddings.encoder import Encoder
from services.jobs.answerers import Answerer
from services.jobs.match import SkillVocabularyCache
from services.serving.metrics import Metrics
from services.serving.settings import ServingSettings

if TYPE_CHECKING:
    from services.serving.model_registry.served import ServedModels
    from services.serving.prediction_log import PredictionLog


class ServiceStarting(Unavailable):
    """A request arrived before the lifespan finished opening the database and encoder."""


@dataclass
class ServingContext:
    """Process-wide state, filled in by the app's lifespan."""

    settings: ServingSettings
    metrics: Metrics
    db: Database | None = None
    encoder: Encoder | None = None
    answerer: Answerer | None = None
    vocabulary: SkillVocabularyCache = field(default_factory=SkillVocabularyCache)
    models: ServedModels | None = None
    prediction_log: PredictionLog | None = None
    #: Readiness probes get their own threads (set by the lifespan): when a stalled database
    #: has every worker of the shared pool waiting, /ready must still answer 503.
    ready_limiter: Any = None
    #: Objects the lifespan created and must close at shutdown (not ones passed in).
    owned: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Services:
    """The loaded services a handler needs (non-optional, unlike the context)."""

    settings: ServingSettings
    db: Database
    encoder: Encoder
    answerer: Answerer
    vocabulary: SkillVocabularyCache
    models: ServedModels


async def get_context(request: Request) -> ServingContext:
    """The app's context (FastAPI dependency).

    Async on purpose: it runs on the event loop, so /ready and /health never wait for a
    thread-pool worker that stalled requests hold.
    """
    return request.app.state.context


def get_services(request: Request) -> Services:
    """The loaded services, or 503 while the app is still starting (FastAPI dependency)."""
    ctx: ServingContext = request.app.state.context
    if ctx.db is None or ctx.encoder is None or ctx.answerer is None or ctx.models is None:
        raise ServiceStarting("service is starting; retry shortly")
    return Services(ctx.settings, ctx.db, ctx.encoder, ctx.answerer, ctx.vocabulary, ctx.models)


def get_models(request: Request) -> ServedModels:
    """The registry-backed models, or 503 while the app is starting (FastAPI dependency)."""
    ctx: ServingContext = request.app.state.context
    if ctx.models is None:
        raise ServiceStarting("service is starting; retry shortly")
    return ctx.models

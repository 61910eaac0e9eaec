"""Readmission predictions and model info, served from the registry's current alias."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.serving.context import ServingContext, get_context, get_models
from services.serving.deprecation import versioned
from services.serving.model_registry.served import ServedModels
from services.serving.predict_schemas import ModelInfoResponse, PredictRequest, PredictResponse

router = APIRouter(tags=["models"])

#: A full batch of MAX_RECORDS encounters is about 1.3 MB of JSON; the app-wide cap is smaller.
PREDICT_MAX_BODY_BYTES = 4 * 1024 * 1024

ModelsDep = Annotated[ServedModels, Depends(get_models)]
ContextDep = Annotated[ServingContext, Depends(get_context)]


@versioned(
    router,
    "POST",
    "/predict/readmission",
    response_model=PredictResponse,
    responses={503: {"description": "No champion model yet (the body says how to train one)."}},
    max_body_size=PREDICT_MAX_BODY_BYTES,
)
async def predict_readmission(body: PredictRequest, models: ModelsDep, ctx: ContextDep) -> Response:
    """P(readmission within 30 days) per record, and the label at the model's threshold.

    Concurrent requests are scored together in one model call (see PredictionBatcher); the
    response is the same as scoring each request alone.
    """
    served = models.readmission.require()  # held for the whole request: swaps cannot affect it
    probability = await models.readmission_batcher.predict(served, body.records)
    labels = (probability >= served.threshold).astype(int)
    ctx.metrics.predictions.labels(served.name).inc(len(labels))
    if ctx.prediction_log is not None:
        ctx.prediction_log.record(served.name, served.version, body.records, probability)
    payload = {
        "predictions": [
            {"probability": round(float(p), 6), "label": int(label)}
            for p, label in zip(probability, labels, strict=True)
        ],
        "model": {"name": served.name, "version": served.version, "alias": served.alias},
        "threshold": served.threshold,
    }
    # Serialised here rather than through response_model: re-validating up to 1,000
    # predictions costs more than the model call on small batches.
    return Response(json.dumps(payload, separators=(",", ":")), media_type="application/json")


@router.get("/v1/model/info", response_model=ModelInfoResponse)
def model_info(models: ModelsDep, request: Request) -> ModelInfoResponse:
    """Name, version, alias, training time, threshold and held-out metrics of each model."""
    slots = dict(models.slots())
    events = getattr(request.app.state, "events", None)  # the events workload's recommenders
    if events is not None:
        slots |= events.slots()
    return ModelInfoResponse.model_validate(
        {"models": {role: slot.describe() for role, slot in slots.items()}}
    )

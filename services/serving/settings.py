"""Settings of the API process (uvicorn locally, ECS Fargate or Lambda in AWS)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field

from services.core.mlflow_settings import MlflowSettingsMixin
from services.embeddings.settings import EmbeddingSettings


class ServingSettings(EmbeddingSettings, MlflowSettingsMixin):
    """API settings; inherits the embedding (query encoder) and core settings."""

    # The API's own default (the core default, 0, means no limit for batch jobs).
    db_statement_timeout: float = Field(
        10.0,
        ge=0,
        description="Seconds one SQL statement may run before the server cancels it; 0 = no limit.",
    )
    host: str = Field("127.0.0.1", description="Address uvicorn binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port uvicorn listens on.")
    workers: int = Field(
        1,
        ge=1,
        le=32,
        description="API worker processes `beacon serve` runs (each loads the encoder and "
        "models); on Fargate the CDK app sets one per vCPU of the task.",
    )
    answer_backend: Literal["extractive", "bedrock"] = Field(
        "extractive",
        description="Answer generator for /v1/job_qa: local extractive, or Amazon Bedrock.",
    )
    bedrock_model_id: str = Field(
        "anthropic.claude-3-haiku-20240307-v1:0",
        description="Bedrock model id used when answer_backend=bedrock.",
    )
    hnsw_ef_search: int = Field(
        100, ge=10, le=1000, description="pgvector hnsw.ef_search for similarity queries."
    )
    max_top_k: int = Field(100, ge=1, le=1000, description="Largest top_k a request may ask.")
    model_alias: str = Field(
        "champion",
        min_length=1,
        description="Registry alias the API serves (`champion`; `challenger` for a shadow API).",
    )
    model_poll_seconds: float = Field(
        30.0,
        gt=0,
        description="Seconds between checks of the registry for a moved alias (hot swap).",
    )
    predict_batch_rows: int = Field(
        2000,
        ge=1,
        description="Most records scored in one model call when concurrent /predict requests "
        "are merged (a single request is never split).",
    )
    readmission_model_name: str = Field(
        "readmission", min_length=1, description="Registered model behind /v1/predict/readmission."
    )
    match_model_name: str = Field(
        "job-match",
        min_length=1,
        description="Registered model behind /v1/classify_match; the similarity rule until one "
        "has the alias.",
    )
    require_client_identity: bool = Field(
        False,
        description="Require the X-Beacon-Client header set by API Gateway (deployed mode); "
        "events lists are bound to it.",
    )
    prediction_log: bool = Field(
        True,
        description="Record each readmission prediction (de-identified features, score, "
        "version) in the prediction_log table for live drift checks.",
    )
    prediction_log_queue: int = Field(
        20_000,
        ge=100,
        description="Predictions held in memory while waiting to be written; beyond it new "
        "ones are dropped and counted (requests never wait for the log).",
    )
    prediction_log_flush_seconds: float = Field(
        1.0, gt=0, description="Longest time a prediction waits before its batch is written."
    )
    require_client_identity: bool = Field(
        False,
        description="Require the X-Beacon-Client header set by API Gateway (deployed mode); "
        "events lists are bound to it.",
    )
    cors_allow_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API (JSON list); empty: no CORS "
        "headers, so browsers on other origins are refused.",
    )
    api_docs: bool | None = Field(
        None,
        description="Serve the interactive /docs and /redoc pages (their assets load from a "
        "CDN); unset: only when BEACON_ENV is local or test. /openapi.json is always served.",
    )
    ready_timeout: float = Field(
        1.0, gt=0, description="Seconds /ready waits for the database before reporting 503."
    )


@lru_cache(maxsize=1)
def get_serving_settings() -> ServingSettings:
    """Serving settings, read once per process."""
    return ServingSettings()

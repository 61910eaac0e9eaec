"""Settings of the events workload: data size, algorithms, gate, cache, A/B admin key."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr

from services.core.mlflow_settings import MlflowSettingsMixin
from services.core.settings import CoreSettings


class RecommenderSettings(CoreSettings, MlflowSettingsMixin):
    """Events recommender settings; inherits the core and MLflow store settings.

    Field names carry an `events_`/`rec_` prefix because the README table lists each field
    once, and the training and serving models already own `seed` and `promotion_margin`.
    """

    events_model_name: str = Field(
        "events-recommender",
        min_length=1,
        description="Registered model holding the trained recommenders (all algorithms).",
    )
    events_users: int = Field(
        2000, ge=10, description="Users generated when no interactions are stored."
    )
    events_count: int = Field(
        600, ge=10, description="Events generated when no interactions are stored."
    )
    events_seed: int = Field(42, description="Seed of the events generator, split and models.")
    rec_test_share: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="Newest share of interactions held out (time-based split) for evaluation.",
    )
    rec_als_factors: int = Field(32, ge=2, le=512, description="Latent factors of the ALS model.")
    rec_als_iterations: int = Field(15, ge=1, le=200, description="ALS training iterations.")
    rec_knn_neighbours: int = Field(
        50, ge=1, description="Neighbours kept per event by item-item collaborative filtering."
    )
    rec_promotion_margin: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Retraining gate: the new hybrid NDCG@10 may trail the champion's recorded "
        "one by at most this much.",
    )
    rec_cache_ttl_seconds: float = Field(
        300.0,
        ge=0,
        description="Seconds a computed list stays in recommendation_cache; 0 disables the cache.",
    )
    rec_catalogue_refresh_seconds: float = Field(
        10.0,
        gt=0,
        description="Seconds the API keeps its in-memory copy of the events table (candidate "
        "filtering and list details) before re-reading it.",
    )
    rec_default_algorithm: Literal["popularity", "item_knn", "als", "content", "hybrid"] = Field(
        "hybrid",
        description="Algorithm served outside any running experiment: popularity, item_knn, "
        "als, content or hybrid.",
    )
    admin_api_key: SecretStr | None = Field(
        None,
        description="Key of the admin endpoints (creating experiments, retraining), sent as "
        "X-Admin-Key (x-api-key belongs to API Gateway). Unset: those endpoints answer 403.",
    )


@lru_cache(maxsize=1)
def get_recommender_settings() -> RecommenderSettings:
    """Recommender settings, read once per process."""
    return RecommenderSettings()

"""Settings of the training jobs: MLflow store, hyperparameter search, gates and promotion."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from services.core.mlflow_settings import MlflowSettingsMixin
from services.core.settings import CoreSettings

ALL_FAMILIES = "logreg,random_forest,hist_gb,lightgbm"


class TrainingSettings(CoreSettings, MlflowSettingsMixin):
    """Training, gate and promotion settings; inherits the core and MLflow store settings."""

    hpo_trials: int = Field(
        30, ge=1, le=10_000, description="Optuna trials per model family (a rerun tops up)."
    )
    hpo_timeout_seconds: float | None = Field(
        None, gt=0, description="Wall-clock limit of the search per model family; unset: none."
    )
    hpo_families: str = Field(
        ALL_FAMILIES,
        description="Comma-separated model families to search: logreg, random_forest, "
        "hist_gb, lightgbm.",
    )
    hpo_sample_rows: int = Field(
        0,
        ge=0,
        description="Train on at most this many rows during the search (0: all); the best "
        "trial is always refit on the whole training split.",
    )
    train_threads: int = Field(
        0,
        ge=0,
        description="Threads a model may use while training. 0: every core for the random "
        "forest, one for the OpenMP/BLAS families (faster on shared cores).",
    )
    seed: int = Field(42, description="Seed of data generation, splits, samplers and models.")
    readmission_rows: int = Field(
        100_000,
        ge=1_000,
        description="Encounters generated when `beacon train readmission` runs without --data.",
    )
    initial_share: float = Field(
        0.2,
        gt=0,
        le=1,
        description="Oldest share of encounters used for the first training "
        "(70/15/15 by patient); the rest becomes future batches.",
    )
    auc_floor: float = Field(
        0.6, ge=0, le=1, description="Performance gate: least validation ROC AUC to register."
    )
    promotion_margin: float = Field(
        0.005,
        ge=0,
        le=1,
        description="Champion/challenger gate: the challenger's test ROC AUC may trail the "
        "champion's by at most this much.",
    )
    validation_max_missing_share: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Data gate: largest rise of a column's missing share over the reference "
        "(over zero for columns that are never missing).",
    )
    validation_drift_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Data gate: fail when more than this share of feature columns drifted "
        "from the reference (Evidently's default per-column tests).",
    )


@lru_cache(maxsize=1)
def get_training_settings() -> TrainingSettings:
    """Training settings, read once per process."""
    return TrainingSettings()

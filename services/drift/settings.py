"""Settings of the drift jobs: thresholds, report location, metrics and the simulation."""

from __future__ import annotations

from pydantic import Field

from services.core.storage import join
from services.training.settings import TrainingSettings


class DriftSettings(TrainingSettings):
    """Drift thresholds and simulation settings; retraining reuses the training settings."""

    drift_column_share: float = Field(
        0.25,
        gt=0,
        le=1,
        description="Data drift gate: fail when more than this share of the model's feature "
        "columns drifted (effect sizes: the categorical and numeric thresholds).",
    )
    drift_prediction_threshold: float = Field(
        0.2,
        gt=0,
        description="Prediction drift gate: fail when the Wasserstein distance (normed) "
        "between reference and current score distributions exceeds this.",
    )
    drift_categorical_threshold: float = Field(
        0.1,
        gt=0,
        le=1,
        description="Data drift, per categorical column: drifted when the Jensen-Shannon "
        "distance to the reference exceeds this (rare categories merged).",
    )
    drift_numeric_threshold: float = Field(
        0.1,
        gt=0,
        description="Data drift, per numeric column: drifted when the Wasserstein distance "
        "normed by the reference's standard deviation exceeds this.",
    )
    drift_auc_drop: float = Field(
        0.02,
        gt=0,
        le=1,
        description="Concept drift gate (labelled batches): fail when ROC AUC falls at least "
        "this far below the reference's and the drop's lower confidence bound is above zero.",
    )
    drift_calibration_gap: float = Field(
        0.01,
        gt=0,
        le=1,
        description="Concept drift gate (labelled batches): fail when mean score and observed "
        "rate differ by at least this and by more than chance (calibration in the large).",
    )
    drift_concept_confidence: float = Field(
        0.99,
        gt=0.5,
        lt=1,
        description="Concept drift gate: confidence of the ROC AUC drop's one-sided lower bound "
        "and of the two-sided calibration test.",
    )
    drift_min_rows: int = Field(
        200, ge=10, description="Fewest rows a drift check accepts (live checks included)."
    )
    drift_scenario: str = Field(
        "default",
        description="Drift scenario of generated later batches (`--batch N`): default or none.",
    )
    drift_batches: int = Field(
        8, ge=1, le=100, description="Number of later batches the generated data is cut into."
    )
    reports_uri: str | None = Field(
        None,
        description="Where drift reports go: a folder or s3://bucket/prefix. "
        "Empty: <storage>/reports.",
    )
    metrics_namespace: str | None = Field(
        None,
        description="CloudWatch namespace of emitted metrics (EMF). Empty: Beacon/<env>, the "
        "namespace the infra dashboard reads.",
    )
    simulate_window_batches: int = Field(
        2, ge=1, description="Simulation: retrain on this many most recent batches."
    )
    simulate_trials: int = Field(
        6, ge=1, description="Simulation: Optuna trials per family when retraining."
    )
    simulate_families: str = Field(
        "hist_gb", description="Simulation: model families searched when retraining."
    )

    @property
    def resolved_reports_uri(self) -> str:
        """The reports root: the setting, else `reports/` under the storage root."""
        return self.reports_uri or join(self.resolved_storage_uri, "reports")

    @property
    def resolved_metrics_namespace(self) -> str:
        """The CloudWatch namespace: the setting, else `Beacon/<env>`."""
        return self.metrics_namespace or f"Beacon/{self.env}"

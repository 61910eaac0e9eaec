"""Drift metrics out: CloudWatch Embedded Metric Format (Powertools) and Prometheus text."""

from __future__ import annotations

import json
from typing import Any

from services.drift.checks import DriftResult

#: The one dimension of the dashboard's metric searches (infra/constructs/monitoring.py).
DASHBOARD_DIMENSION = "Workload"


def metric_values(result: DriftResult) -> dict[str, float]:
    """The numbers one check publishes, by CloudWatch metric name."""
    values = {
        "DriftShareOfDriftedColumns": result.share_of_drifted_columns,
        "DriftedColumns": float(len(result.drifted_columns)),
        "DriftDetected": float(result.drift_detected),
        "RetrainRecommended": float(result.retrain_recommended),
        "PredictionDriftScore": float(result.prediction["score"]),
        "DriftRowsChecked": float(result.rows_current),
    }
    if result.concept is not None:
        values["ModelRocAuc"] = result.concept["roc_auc_current"]
        # Alert rules compare the two AUCs (observability/prometheus): the drop needs both.
        values["ModelRocAucReference"] = result.concept["roc_auc_reference"]
        values["ModelCalibrationError"] = result.concept["calibration_error_current"]
    return values


def emf_document(values: dict[str, float], *, namespace: str, workload: str) -> dict[str, Any]:
    """One EMF document (CloudWatch extracts the metrics from the log line)."""
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

    # No `service` dimension: the dashboard searches exactly {namespace, Workload}.
    metrics = EphemeralMetrics(namespace=namespace)
    metrics.add_dimension(name=DASHBOARD_DIMENSION, value=workload)
    for name, value in values.items():
        unit = MetricUnit.Count if name in {"DriftedColumns", "DriftRowsChecked"} else "None"
        metrics.add_metric(name=name, unit=unit, value=value)
    return metrics.serialize_metric_set()


def emf_line(values: dict[str, float], *, namespace: str, workload: str) -> str:
    """The EMF document as the single JSON line a log stream carries."""
    return json.dumps(emf_document(values, namespace=namespace, workload=workload))


def prometheus_text(values: dict[str, float], *, workload: str, model_version: str) -> str:
    """Gauges in the Prometheus text format (for a node-exporter textfile collector)."""
    from prometheus_client import CollectorRegistry, Gauge, generate_latest

    registry = CollectorRegistry()
    for name, value in values.items():
        gauge = Gauge(
            f"beacon_{_snake(name)}",
            f"Beacon drift check: {name}",
            ["workload", "model_version"],
            registry=registry,
        )
        gauge.labels(workload, model_version).set(value)
    return generate_latest(registry).decode()


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")

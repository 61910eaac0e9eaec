"""Read what the jobs left behind: drift checks over time, job success markers, experiments."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import psycopg

from services.core.storage import Storage, join, parse_uri

log = logging.getLogger(__name__)

#: File names a drift check writes (services/drift/outputs.py); summary.json is written last.
SUMMARY = "summary.json"
PROMETHEUS = "metrics.prom"


@dataclass(frozen=True)
class DriftCheck:
    """One finished drift check: its folder, when it finished and its summary."""

    model: str
    label: str
    checked_at: float
    folder: str
    summary: dict[str, Any]

    @property
    def share_of_drifted_columns(self) -> float:
        """Share of feature columns Evidently found drifted."""
        return float(self.summary.get("share_of_drifted_columns") or 0.0)

    @property
    def prediction_drift(self) -> float | None:
        """The prediction-drift score (normed Wasserstein distance)."""
        score = (self.summary.get("prediction_drift") or {}).get("score")
        return None if score is None else float(score)

    @property
    def roc_auc(self) -> tuple[float, float] | None:
        """(reference, current) ROC AUC when the batch had labels."""
        concept = self.summary.get("concept_drift")
        if not concept:
            return None
        return float(concept["roc_auc_reference"]), float(concept["roc_auc_current"])


def drift_checks(reports_uri: str, storage: Storage) -> list[DriftCheck]:
    """Every drift check under `<reports>/drift/<model>/<label>/`, oldest first.

    A check counts once its summary exists (the drift job writes it last); the time is the
    summary's write time, since a rerun of an old batch is a new check.
    """
    root = join(reports_uri, "drift")
    checks = []
    for relative, uri, modified in _list_with_times(storage, root):
        parts = relative.split("/")
        if len(parts) != 3 or parts[2] != SUMMARY:
            continue
        try:
            summary = json.loads(storage.read_bytes(uri))
        except (OSError, ValueError) as exc:
            log.warning("unreadable drift summary skipped", extra={"error": type(exc).__name__})
            continue
        folder = uri[: -len(SUMMARY)].rstrip("/")
        checks.append(DriftCheck(parts[0], parts[1], modified, folder, summary))
    return sorted(checks, key=lambda c: (c.checked_at, c.model, c.label))


def latest_by_model(checks: list[DriftCheck]) -> dict[str, DriftCheck]:
    """The most recent check of each model."""
    latest: dict[str, DriftCheck] = {}
    for check in checks:  # oldest first, so the last one wins
        latest[check.model] = check
    return latest


def experiment_results(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Results (exposures, conversions, lift with CI, SRM) of every running experiment."""
    from services.recommender.experiments import experiment_results as results
    from services.recommender.experiments import list_experiments

    return [
        results(conn, experiment.experiment_id)
        for experiment in list_experiments(conn)
        if experiment.status == "running"
    ]


def _list_with_times(storage: Storage, prefix_uri: str) -> list[tuple[str, str, float]]:
    """(path relative to the prefix, URI, modification time) of every object under it."""
    loc = parse_uri(prefix_uri)
    if loc.scheme == "s3":
        prefix = loc.key.rstrip("/") + "/"
        paginator = storage.s3.get_paginator("list_objects_v2")
        return [
            (
                obj["Key"][len(prefix) :],
                f"s3://{loc.bucket}/{obj['Key']}",
                obj["LastModified"].timestamp(),
            )
            for page in paginator.paginate(Bucket=loc.bucket, Prefix=prefix)
            for obj in page.get("Contents", [])
        ]
    root = loc.path
    if not root.is_dir():
        return []
    return [
        (p.relative_to(root).as_posix(), str(p), p.stat().st_mtime)
        for p in root.rglob("*")
        if p.is_file()
    ]

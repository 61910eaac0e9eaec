"""Write a drift check's summary, HTML report and metrics to a folder or S3 prefix."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import pandas as pd

from services.core.storage import Storage, join
from services.drift.checks import DriftResult
from services.drift.emit import emf_line, metric_values, prometheus_text
from services.drift.settings import DriftSettings

SUMMARY = "summary.json"
REPORT = "report.html"
PROMETHEUS = "metrics.prom"
EMF = "metrics.emf.jsonl"


def default_out(settings: DriftSettings, model_name: str, label: str) -> str:
    """`<reports>/drift/<model>/<label>`: one folder per checked batch, overwritten on rerun."""
    return join(settings.resolved_reports_uri, "drift", model_name, label)


def write_outputs(
    result: DriftResult, settings: DriftSettings, out_uri: str, storage: Storage | None = None
) -> dict[str, str]:
    """Write every file of the check; the summary goes last, so its presence means complete."""
    storage = storage or Storage(settings.aws_region)
    values = metric_values(result)
    files = {
        REPORT: _html(result),
        PROMETHEUS: prometheus_text(
            values, workload=result.model_name, model_version=result.model_version
        ).encode(),
        EMF: (
            emf_line(
                values,
                namespace=settings.resolved_metrics_namespace,
                workload=result.model_name,
            )
            + "\n"
        ).encode(),
        SUMMARY: json.dumps(result.summary(), indent=2).encode(),
    }
    return write_files(files, out_uri, storage)


def write_files(files: dict[str, bytes], root_uri: str, storage: Storage) -> dict[str, str]:
    """Write each named file under `root_uri`, in order; returns name -> URI."""
    written = {}
    for name, data in files.items():
        uri = join(root_uri, name)
        storage.write_bytes(uri, data)
        written[name] = uri
    return written


def check_inputs(
    batch: pd.DataFrame, model_name: str, model_version: str, settings: DriftSettings
) -> str:
    """Fingerprint of one check: the batch's rows, the model version and the drift limits."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(batch, index=False).to_numpy().tobytes())
    limits = {k: v for k, v in settings.model_dump().items() if k.startswith("drift_")}
    digest.update(json.dumps([model_name, model_version, limits], sort_keys=True).encode())
    return digest.hexdigest()[:16]


def recorded_result(out_uri: str, inputs: str, storage: Storage) -> DriftResult | None:
    """The check a complete earlier write of `out_uri` holds for the same inputs, or None."""
    uri = join(out_uri, SUMMARY)
    if not storage.exists(uri):
        return None  # never written, or killed before the summary (written last)
    summary = json.loads(storage.read_bytes(uri))
    return DriftResult.from_summary(summary) if summary.get("inputs") == inputs else None


def _html(result: DriftResult) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / REPORT
        result.snapshot.save_html(str(path))
        return path.read_bytes()

"""Write a drift check's summary, HTML report and metrics to a folder or S3 prefix."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

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


def _html(result: DriftResult) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / REPORT
        result.snapshot.save_html(str(path))
        return path.read_bytes()

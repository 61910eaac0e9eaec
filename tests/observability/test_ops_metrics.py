"""The API's operational gauges: readiness, latest drift check, job markers, experiments."""

from __future__ import annotations

import json
import os
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from services.cli import app as cli
from services.core.heartbeat import last_success, marker_uri, record_success
from services.core.storage import Storage, join
from services.drift.emit import prometheus_text
from services.drift.outputs import PROMETHEUS, SUMMARY, write_files
from services.serving.context import ServingContext
from services.serving.metrics import Metrics
from services.serving.ops_metrics import OpsCollector
from services.serving.settings import ServingSettings


def _samples(metrics: Metrics) -> dict[tuple[str, tuple], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _check(reports: str, label: str, version: str, share: float, stamp: float) -> None:
    values = {
        "DriftShareOfDriftedColumns": share,
        "ModelRocAuc": 0.66,
        "ModelRocAucReference": 0.72,
    }
    folder = join(reports, "drift", "readmission", label)
    text = prometheus_text(values, workload="readmission", model_version=version)
    write_files(
        {PROMETHEUS: text.encode(), SUMMARY: json.dumps({"label": label}).encode()},
        folder,
        Storage(),
    )
    os.utime(Path(folder) / SUMMARY, (stamp, stamp))


def test_markers_round_trip_and_tolerate_a_damaged_file(tmp_path: Path) -> None:
    storage, root = Storage(), str(tmp_path)
    assert last_success(root, "embed_refresh", storage) is None
    stamp = record_success(root, "embed_refresh", storage, details={"embedded": 3})
    assert last_success(root, "embed_refresh", storage) == stamp
    Path(marker_uri(root, "embed_refresh")).write_text("{not json")
    assert last_success(root, "embed_refresh", storage) is None


def test_collector_exports_latest_drift_markers_and_experiments(tmp_path: Path, db) -> None:
    from services.recommender.experiments import Experiment, Variant, create_experiment

    reports, storage_root = str(tmp_path / "reports"), str(tmp_path / "storage")
    _check(reports, "batch-1", "2", 0.40, 1_700_000_000)  # older check, drifted
    _check(reports, "batch-2", "3", 0.05, 1_700_086_400)  # the latest one wins
    record_success(storage_root, "embed_refresh", Storage())
    with db.connection() as conn:
        variants = (Variant("control", "popularity", 0.5), Variant("hybrid", "hybrid", 0.5))
        create_experiment(conn, Experiment("ab", "ab", variants, "purchase", "running", None, None))
    metrics = Metrics(lambda: db)
    context = ServingContext(settings=ServingSettings(home=tmp_path), metrics=metrics, db=db)
    metrics.registry.register(OpsCollector(context, reports, storage_root))

    samples = _samples(metrics)
    assert samples[("beacon_ready", ())] == 0.0  # no encoder loaded: not ready
    latest = (("model_version", "3"), ("workload", "readmission"))
    assert samples[("beacon_drift_share_of_drifted_columns", latest)] == 0.05
    assert samples[("beacon_model_roc_auc_reference", latest)] == 0.72
    assert not any(k[1] and ("model_version", "2") in k[1] for k in samples)
    checked = samples[("beacon_drift_last_check_timestamp_seconds", (("workload", "readmission"),))]
    assert checked == 1_700_086_400
    assert samples[("beacon_job_last_success_timestamp_seconds", (("job", "embed_refresh"),))] > 0
    # Not ready: the experiment query is skipped (the scrape must stay fast in an outage).
    assert not any(k[0] == "beacon_experiment_srm_p_value" for k in samples)


def test_collector_reads_experiments_when_ready(tmp_path: Path, db, encoder) -> None:
    from services.jobs.answerers import build_answerer
    from services.recommender.experiments import Experiment, Variant, create_experiment

    with db.connection() as conn:
        variants = (Variant("control", "popularity", 0.5), Variant("hybrid", "hybrid", 0.5))
        create_experiment(conn, Experiment("ab", "ab", variants, "purchase", "running", None, None))
    metrics = Metrics(lambda: db)
    context = ServingContext(settings=ServingSettings(home=tmp_path), metrics=metrics, db=db)
    context.encoder, context.answerer = encoder, build_answerer("extractive", encoder)
    metrics.registry.register(OpsCollector(context, str(tmp_path / "r"), str(tmp_path / "s")))
    samples = _samples(metrics)
    assert samples[("beacon_ready", ())] == 1.0
    assert samples[("beacon_experiment_srm_p_value", (("experiment", "ab"),))] == 1.0
    assert (
        samples[("beacon_experiment_exposures", (("experiment", "ab"), ("variant", "hybrid")))] == 0
    )


def test_embed_refresh_records_its_success(tmp_path: Path, database_url: str) -> None:
    env = {"BEACON_HOME": str(tmp_path), "DATABASE_URL": database_url, "BEACON_LOG_FORMAT": "text"}
    result = CliRunner().invoke(cli, ["embed", "refresh"], env=env)
    assert result.exit_code == 0, result.output
    assert last_success(str(tmp_path / "storage"), "embed_refresh", Storage()) is not None

"""`beacon simulate`: the drift scenario retrains and beats a never-retrained model; the
no-drift control never retrains; a rerun ends in the same state; the timeline is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score

from services.drift.outputs import SUMMARY
from services.drift.simulate import simulate
from services.drift.timeline import write_timeline
from services.mlops import registry
from services.training.readmission_schema import FEATURE_COLUMNS, TARGET_COLUMN, to_target
from tests.services.drift.conftest import scenario_batches


@pytest.fixture(scope="module")
def drifted_run(drift_settings):
    settings = drift_settings.model_copy(update={"drift_scenario": "default"})
    return settings, simulate(settings, n_batches=8)


def test_drift_triggers_retraining_that_beats_the_never_retrained_model(drifted_run):
    settings, run = drifted_run
    assert run.retrain_batches, [s.decision for s in run.steps]
    assert run.promotion_batches
    # The concept change lands with batch 6: it must be caught there at the latest.
    assert min(run.retrain_batches) <= 6
    champion = registry.alias_version(run.model_name, registry.CHAMPION, settings)
    assert str(champion.version) != run.initial_version
    final = registry.load_model(run.model_name, str(champion.version), settings)
    initial = registry.load_model(run.model_name, run.initial_version, settings)
    last = scenario_batches(settings, "default")[-2:]
    for batch in last:
        y = to_target(batch[TARGET_COLUMN])
        final_auc = roc_auc_score(y, final.predict_proba(batch[FEATURE_COLUMNS])[:, 1])
        initial_auc = roc_auc_score(y, initial.predict_proba(batch[FEATURE_COLUMNS])[:, 1])
        assert final_auc > initial_auc + 0.02, (final_auc, initial_auc)
    for step in run.steps:
        assert step.decision
        assert step.retrained == step.retrain_recommended
        if step.retrained:
            assert step.reasons  # every retraining says why


def test_rerun_after_a_kill_ends_in_the_same_state(drifted_run):
    settings, run = drifted_run
    client = registry.client(settings)
    versions = len(client.search_model_versions(f"name='{run.model_name}'"))
    # As if killed during batch 6: its check and the later ones never finished (the summary
    # is written last). The rerun must cross the concept change (batch 6) and the retraining
    # it causes, or it could hold trivially. Batches 1-5 reuse their recorded checks; every
    # retraining resumes its complete Optuna study and reuses its registered version.
    assert any(number >= 6 for number in run.retrain_batches), run.retrain_batches
    root = Path(settings.resolved_reports_uri) / "simulation" / "default"
    for number in range(6, len(run.steps) + 1):
        (root / f"batch-{number}" / SUMMARY).unlink()
    said: list[str] = []
    again = simulate(settings, n_batches=len(run.steps), say=said.append)
    reused = [line.split(":")[0] for line in said if "recorded by an earlier run" in line]
    assert reused == [f"batch {n}" for n in range(1, 6)]
    assert [s.decision for s in again.steps] == [s.decision for s in run.steps]
    assert [s.served_version for s in again.steps] == [s.served_version for s in run.steps]
    assert again.retrain_batches == run.retrain_batches
    assert len(client.search_model_versions(f"name='{run.model_name}'")) == versions
    promoted = [s.promoted_version for s in run.steps if s.promoted_version]
    champion = registry.alias_version(run.model_name, registry.CHAMPION, settings)
    assert str(champion.version) == (promoted[-1] if promoted else run.initial_version)


def test_no_drift_control_never_retrains(drift_settings):
    settings = drift_settings.model_copy(update={"drift_scenario": "none"})
    run = simulate(settings, n_batches=8)
    assert run.model_name == "readmission-sim-none"
    assert run.retrain_batches == [], [s.reasons for s in run.steps]
    assert {s.served_version for s in run.steps} == {run.initial_version}


def test_timeline_files_are_written(drifted_run, tmp_path: Path):
    settings, run = drifted_run
    written = write_timeline(run, str(tmp_path), (0.1, 0.2))
    png = Path(written["timeline.png"]).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    page = Path(written["timeline.html"]).read_text()
    assert page.count("<tr><td>") == 8
    assert 'href="batch-1/report.html"' in page
    record = json.loads(Path(written["timeline.json"]).read_text())
    assert record["retrain_batches"] == run.retrain_batches
    assert len(record["steps"]) == 8
    # The per-batch drift reports the page links to exist next to the timeline root.
    root = Path(settings.resolved_reports_uri) / "simulation" / "default"
    assert (root / "batch-8" / "report.html").is_file()

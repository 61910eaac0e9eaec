"""A recorded drift check is reused only for the same rows, model version and limits."""

from __future__ import annotations

import pandas as pd

from services.core.storage import Storage
from services.drift.checks import DriftResult
from services.drift.outputs import SUMMARY, check_inputs, recorded_result, write_files
from services.drift.settings import DriftSettings
from services.mlops.gates import GateResult

BATCH = pd.DataFrame({"age": ["[50-60)", "[60-70)", "[70-80)"], "num_lab_procedures": [41, 3, 60]})


def _result(inputs: str) -> DriftResult:
    return DriftResult(
        label="batch-3",
        model_name="readmission-sim-x",
        model_version="2",
        rows_reference=900,
        rows_current=3,
        column_scores={
            "age": {"drifted": True, "score": 0.31},
            "num_lab_procedures": {"drifted": False, "score": 0.02},
        },
        prediction={"score": 0.12, "drifted": False},
        concept=None,
        gates=[GateResult("data drift", False, [], "1 of 2 columns drifted")],
        inputs=inputs,
    )


def test_rows_version_and_each_limit_change_the_inputs() -> None:
    settings = DriftSettings()
    base = check_inputs(BATCH, "m", "2", settings)
    assert base == check_inputs(BATCH.copy(), "m", "2", settings)
    edited = BATCH.copy()
    edited.loc[1, "num_lab_procedures"] = 4
    changed = [
        check_inputs(edited, "m", "2", settings),
        check_inputs(BATCH, "m", "3", settings),
        check_inputs(BATCH, "other", "2", settings),
        check_inputs(BATCH, "m", "2", settings.model_copy(update={"drift_column_share": 0.5})),
        check_inputs(BATCH, "m", "2", settings.model_copy(update={"drift_auc_drop": 0.05})),
    ]
    assert base not in changed and len(set(changed)) == len(changed)


def test_a_written_check_reads_back_only_under_its_own_inputs(tmp_path) -> None:
    import json

    storage, out = Storage(), str(tmp_path / "batch-3")
    assert recorded_result(out, "abc", storage) is None  # nothing written yet
    original = _result("abc")
    write_files({SUMMARY: json.dumps(original.summary()).encode()}, out, storage)
    again = recorded_result(out, "abc", storage)
    assert again is not None and again.summary() == original.summary()
    assert again.retrain_recommended and again.reasons == original.reasons
    assert recorded_result(out, "other", storage) is None

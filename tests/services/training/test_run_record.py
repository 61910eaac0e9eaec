"""A resumed stage reuses a record only while what produced it is unchanged."""

from __future__ import annotations

from services.training.run_record import gate_fingerprint
from services.training.settings import TrainingSettings

ROWS = (700, 150, 150)


def _fingerprint(**changes: object) -> str:
    settings = TrainingSettings().model_copy(update=changes.pop("settings", {}))
    args = {"source": "file:diabetic_data.csv:0123abcd", "dropped": {}, "rows": ROWS}
    args |= changes
    return gate_fingerprint(args["source"], settings, args["dropped"], args["rows"])


def test_the_same_inputs_give_the_same_fingerprint() -> None:
    assert _fingerprint() == _fingerprint()


def test_data_split_and_gate_limits_each_change_the_fingerprint() -> None:
    base = _fingerprint()
    changed = [
        _fingerprint(source="file:diabetic_data.csv:ffff0000"),  # other bytes
        _fingerprint(rows=(701, 150, 149)),  # another split
        _fingerprint(dropped={"examide": "one value"}),
        _fingerprint(settings={"seed": 7}),
        _fingerprint(settings={"initial_share": 0.3}),
        _fingerprint(settings={"validation_drift_share": 0.9}),
        _fingerprint(settings={"validation_max_missing_share": 0.2}),
    ]
    assert base not in changed
    assert len(set(changed)) == len(changed)

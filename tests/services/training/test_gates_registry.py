"""Gates say no with readable reasons; promotion and rollback move MLflow aliases."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier

from services.core.errors import InputError
from services.mlops import registry
from services.mlops.gates import champion_challenger_gate, performance_gate
from services.training.families import FAMILIES, final_estimator
from services.training.features import build_preprocessor, model_pipeline
from services.training.gates import validate_data
from services.training.readmission_schema import EXAMPLE_RECORD, FEATURE_COLUMNS, to_target
from services.training.readmission_splits import split_readmission
from services.training.readmission_synthetic import generate_readmission

# --- data validation -----------------------------------------------------------------------


def test_a_clean_batch_passes(small_splits) -> None:
    batch = small_splits.future_batches(8)[0]
    result = validate_data(batch, small_splits.train, require_target=True)
    assert result.passed, result.report()
    assert "all passed" in result.summary


@pytest.mark.parametrize(
    ("breakage", "failing_check"),
    [
        (lambda b: b.assign(num_lab_procedures="n/a"), "schema: num_lab_procedures"),
        (lambda b: b.drop(columns=["A1Cresult"]), "schema: columns"),
        (lambda b: b.assign(medical_specialty="?"), "missing share: medical_specialty"),
        (
            lambda b: b.assign(time_in_hospital=b["time_in_hospital"] * 30),
            "range: time_in_hospital",
        ),
        (lambda b: b.assign(age="[70-80]"), "vocabulary: age"),
    ],
)
def test_a_batch_with_a_broken_column_fails(small_splits, breakage, failing_check) -> None:
    batch = breakage(small_splits.future_batches(8)[1].copy())
    result = validate_data(batch, small_splits.train)
    assert not result.passed
    failed = [c.name for c in result.checks if not c.passed]
    assert failing_check in failed, result.report()
    assert f"FAIL {failing_check}" in result.report()


def test_drift_beyond_the_threshold_fails() -> None:
    frame = generate_readmission(12_000, seed=9, drift_start=0.3, drift_strength=3.0)
    splits = split_readmission(frame, initial_share=0.25, seed=9)
    late = splits.future_batches(4)[-1]
    result = validate_data(late, splits.train, drift_share=0.05)
    drift = next(c for c in result.checks if c.name == "drift")
    assert not drift.passed and "number_inpatient" in drift.detail, drift.detail
    assert validate_data(late, splits.train, drift_share=0.5).passed


def test_column_verdicts_equal_evidently_value_drift_reports() -> None:
    """The gate runs Evidently's per-column test without the report's plots: same verdicts."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    from services.training.gates import column_drifted

    frame = generate_readmission(6_000, seed=5, drift_start=0.3, drift_strength=3.0)
    splits = split_readmission(frame, initial_share=0.3, seed=5)
    ref, cur = splits.train, splits.future_batches(2)[-1]
    numeric = ["number_inpatient", "num_lab_procedures", "num_medications", "time_in_hospital"]
    categorical = ["diag_1", "A1Cresult", "insulin", "medical_specialty", "race"]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    snapshot = Report([ValueDrift(column=c) for c in numeric + categorical], include_tests=True)
    result = snapshot.run(
        current_data=Dataset.from_pandas(cur[numeric + categorical], data_definition=definition),
        reference_data=Dataset.from_pandas(ref[numeric + categorical], data_definition=definition),
    ).dict()
    evidently = {
        t["metric_config"]["params"]["column"]: str(t["status"].value) == "FAIL"
        for t in result["tests"]
    }
    ours = {c: column_drifted(ref[c], cur[c], c in numeric) for c in numeric + categorical}
    assert ours == evidently
    assert any(ours.values()) and not all(ours.values())  # both verdicts are exercised


def test_performance_floor() -> None:
    assert performance_gate(0.66, 0.6).passed
    failed = performance_gate(0.55, 0.6, "LightGBM")
    assert not failed.passed and "0.5500 < floor 0.6000" in failed.report()


# --- registry and promotion ----------------------------------------------------------------


@pytest.fixture(scope="module")
def models(small_splits):
    """A real model and a deliberately worse one (predicts the base rate for everybody)."""
    x, y = small_splits.train[FEATURE_COLUMNS], to_target(small_splits.train["readmitted"])
    good = model_pipeline(
        build_preprocessor(), final_estimator(FAMILIES["logreg"], {"C": 0.1}, 1, 1)
    ).fit(x, y)
    worse = model_pipeline(build_preprocessor(), DummyClassifier(strategy="prior")).fit(x, y)
    return good, worse


def _register(name, model, settings, family="logreg"):
    return registry.register_model(
        name,
        model,
        pd.DataFrame([EXAMPLE_RECORD]),
        threshold=0.2,
        family=family,
        metrics={"test_roc_auc": 0.7, "test_pr_auc": 0.25, "test_brier": 0.09},
        settings=settings,
    ).version


def test_registered_version_carries_the_serving_contract(
    model_name, models, training_settings
) -> None:
    import mlflow

    version = _register(model_name, models[0], training_settings)
    client = registry.client(training_settings)
    mv = client.get_model_version_by_alias(model_name, registry.CHALLENGER)
    assert str(mv.version) == str(version)
    assert float(mv.tags[registry.TAG_THRESHOLD]) == 0.2
    assert mv.tags[registry.TAG_FAMILY] == "logreg"
    assert float(mv.tags[registry.TAG_ROC_AUC_TEST]) == pytest.approx(0.7)
    assert mv.tags[registry.TAG_TRAINED_AT].endswith("+00:00")
    assert client.get_run(mv.run_id).data.metrics["test_roc_auc"] == 0.7
    loaded = mlflow.sklearn.load_model(f"models:/{model_name}@{registry.CHALLENGER}")
    proba = loaded.predict_proba(pd.DataFrame([EXAMPLE_RECORD]))
    assert proba.shape == (1, 2) and 0 < proba[0, 1] < 1


def test_a_worse_model_is_never_promoted(
    model_name, models, small_splits, training_settings
) -> None:
    good, worse = models
    x_test, y_test = small_splits.test[FEATURE_COLUMNS], to_target(small_splits.test["readmitted"])
    champion = _register(model_name, good, training_settings)
    first = champion_challenger_gate(
        model_name, champion, x_test, y_test, margin=0.005, settings=training_settings
    )
    assert first.passed and "no champion yet" in first.summary
    registry.promote(model_name, training_settings, champion)

    challenger = _register(model_name, worse, training_settings, family="dummy")
    gate = champion_challenger_gate(
        model_name, challenger, x_test, y_test, margin=0.005, settings=training_settings
    )
    assert not gate.passed
    assert "challenger is worse, champion kept" in gate.report()
    assert gate.values["challenger_auc"] == pytest.approx(0.5)
    current = registry.alias_version(model_name, registry.CHAMPION, training_settings)
    assert str(current.version) == str(champion)


def test_rollback_restores_the_previous_champion(model_name, models, training_settings) -> None:
    good, _ = models
    v1 = _register(model_name, good, training_settings)
    first = registry.promote(model_name, training_settings)  # the challenger by default
    assert first.changed and first.previous is None
    v2 = _register(model_name, good, training_settings)
    moved = registry.promote(model_name, training_settings, v2)
    assert moved.previous == str(v1)
    assert registry.promote(model_name, training_settings, v2).changed is False

    back = registry.rollback(model_name, training_settings)
    assert back.version == str(v1) and back.previous == str(v2)
    champion = registry.alias_version(model_name, registry.CHAMPION, training_settings)
    assert str(champion.version) == str(v1)
    rows = {r.version: r for r in registry.list_models(model_name, training_settings)}
    assert rows[str(v1)].aliases == ["champion"]
    assert rows[str(v2)].aliases == ["challenger"]
    assert rows[str(v1)].metrics["test_roc_auc"] == 0.7
    with pytest.raises(InputError, match="no previous champion"):
        registry.rollback(model_name, training_settings)


def test_registry_errors_name_the_model(training_settings) -> None:
    with pytest.raises(InputError, match="no registered model named 'nope'"):
        registry.list_models("nope", training_settings)
    with pytest.raises(InputError, match="no registered model"):
        registry.rollback("nope", training_settings)


def test_local_tracking_store_lives_under_home(training_settings) -> None:
    uri = registry.mlflow_tracking_uri(training_settings)
    assert uri == f"sqlite:///{training_settings.home.resolve()}/mlflow/mlflow.db"
    remote = training_settings.model_copy(update={"mlflow_tracking_uri": "http://mlflow:5000"})
    assert registry.mlflow_tracking_uri(remote) == "http://mlflow:5000"

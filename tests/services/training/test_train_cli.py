"""`beacon train readmission` end to end on real PostgreSQL, MLflow and sklearn; `beacon model`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from services.cli import app
from services.mlops import registry
from services.training.readmission_schema import EXAMPLE_RECORD, FEATURE_COLUMNS
from services.training.train import train_readmission
from tests.helpers import cli_env

runner = CliRunner()


def _env(database_url: str, home: Path, **extra: str) -> dict[str, str | None]:
    """A small, quick readmission run (8,000 rows, half of them the initial window)."""
    settings = {"BEACON_READMISSION_ROWS": "8000", "BEACON_INITIAL_SHARE": "0.5"}
    return cli_env(database_url, home, **{**settings, **extra})


@pytest.mark.parametrize(
    "args",
    [
        ["train"],
        ["train", "readmission"],
        ["train", "validate"],
        ["train", "generate"],
        ["model"],
        ["model", "list"],
        ["model", "promote"],
        ["model", "rollback"],
    ],
)
def test_every_training_command_has_help(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_train_readmission_end_to_end_then_resume(database_url, training_home) -> None:
    env = _env(database_url, training_home)
    args = ["train", "readmission", "--trials", "2", "--families", "logreg,hist_gb"]
    result = runner.invoke(app, [*args, "--run-id", "e2e-1"], env=env)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "[PASS] data validation" in out and "[PASS] performance floor" in out
    assert "[hist_gb] trial 1 (2/2 done)" in out
    assert "ROC AUC on the test split" in out
    assert "LogisticRegression" in out and "HistGradientBoosting" in out
    assert "promoted version 1 to champion" in out

    settings = _settings(training_home)
    mv = registry.alias_version("readmission", registry.CHAMPION, settings)
    assert str(mv.version) == "1"
    for tag in (registry.TAG_THRESHOLD, registry.TAG_TRAINED_AT, registry.TAG_ROC_AUC_TEST,
                registry.TAG_FAMILY):  # fmt: skip
        assert tag in mv.tags
    assert mv.tags[registry.TAG_FAMILY] in ("logreg", "hist_gb")
    metrics = registry.client(settings).get_run(mv.run_id).data.metrics
    assert {"test_roc_auc", "test_pr_auc", "test_brier", "val_roc_auc"} <= set(metrics)
    assert metrics["test_roc_auc"] > 0.6
    # The test split's 95 % interval brackets its ROC AUC, logged and printed alike.
    assert metrics["test_roc_auc_low"] < metrics["test_roc_auc"] < metrics["test_roc_auc_high"]
    assert f"[95 % CI {metrics['test_roc_auc_low']:.3f}-" in out

    import mlflow

    served = mlflow.sklearn.load_model("models:/readmission@champion")
    proba = served.predict_proba(pd.DataFrame([EXAMPLE_RECORD])[FEATURE_COLUMNS])
    assert proba.shape == (1, 2) and 0 < proba[0, 1] < 1
    artifacts = {a.path for a in registry.client(settings).list_artifacts(mv.run_id)}
    assert {"roc.png", "calibration.png", "feature_importances.csv"} <= artifacts

    # Same run id again: every study is complete, nothing is retrained or re-registered.
    again = runner.invoke(app, [*args, "--run-id", "e2e-1"], env=env)
    assert again.exit_code == 0, again.output
    assert "trial 0" not in again.output
    assert "already is the champion" in again.output
    # The rerun reuses what the run recorded: the data gate's verdict and each family's refit
    # (one refit, one logged model per family, however often the run is resumed).
    assert "[PASS] data validation" in again.output and "not checked again" in again.output
    history = registry.client(settings).get_metric_history(mv.run_id, "test_roc_auc")
    assert len(history) == 1, history
    assert [r.version for r in registry.list_models("readmission", settings)] == ["1"]

    listed = runner.invoke(app, ["model", "list", "readmission"], env=env)
    assert listed.exit_code == 0 and "challenger,champion" in listed.output
    rollback = runner.invoke(app, ["model", "rollback", "readmission"], env=env)
    assert rollback.exit_code == 2 and "no previous champion" in rollback.output
    missing = runner.invoke(app, ["model", "promote", "readmission", "--version", "9"], env=env)
    assert missing.exit_code == 2 and "no version 9" in missing.output

    # A worse candidate (a constant predictor, ROC AUC 0.5) as version 2: the gate keeps it
    # out with exit 1; the operator override moves the alias anyway; rollback restores 1.
    worse = _register_constant_model(settings)
    gated = runner.invoke(
        app, ["model", "promote", "readmission", "--if-better", "--version", worse], env=env
    )
    assert gated.exit_code == 1, gated.output
    assert "gate failed: champion/challenger" in gated.output
    assert _champion(settings) == "1"
    forced = runner.invoke(app, ["model", "promote", "readmission", "--version", worse], env=env)
    assert forced.exit_code == 0, forced.output
    assert f"promoted version {worse}" in forced.output and _champion(settings) == worse
    back = runner.invoke(app, ["model", "rollback", "readmission"], env=env)
    assert back.exit_code == 0, back.output
    assert _champion(settings) == "1"


def _champion(settings) -> str:
    return str(registry.alias_version("readmission", registry.CHAMPION, settings).version)


def _register_constant_model(settings) -> str:
    """Register a pipeline that predicts the base rate for everyone; returns its version."""
    from sklearn.dummy import DummyClassifier

    from services.training.features import build_preprocessor, model_pipeline
    from services.training.readmission_schema import TARGET_COLUMN, to_target
    from services.training.readmission_synthetic import generate_readmission

    frame = generate_readmission(500, seed=3)
    model = model_pipeline(build_preprocessor(), DummyClassifier(strategy="prior"))
    model.fit(frame[FEATURE_COLUMNS], to_target(frame[TARGET_COLUMN]))
    version = registry.register_model(
        "readmission",
        model,
        frame[FEATURE_COLUMNS].head(1),
        threshold=0.5,
        family="logreg",
        metrics={"test_roc_auc": 0.5, "test_pr_auc": 0.1, "test_brier": 0.1},
        settings=settings,
    ).version
    return str(version)


def _settings(home: Path):
    from services.training.settings import TrainingSettings

    # mlflow.set_tracking_uri() in an earlier in-process test exports MLFLOW_TRACKING_URI;
    # the CLI runs here used the store under `home`, so look there.
    return TrainingSettings(home=home, mlflow_tracking_uri=None, _env_file=None)


def test_bad_data_file_exits_2_naming_the_column(database_url, training_home, tmp_path) -> None:
    from services.training.readmission_synthetic import generate_readmission

    frame = generate_readmission(50, seed=1).drop(columns=["max_glu_serum"])
    path = tmp_path / "diabetic_data.csv"
    frame.to_csv(path, index=False)
    env = _env(database_url, training_home)
    result = runner.invoke(app, ["train", "readmission", "--data", str(path)], env=env)
    assert result.exit_code == 2
    assert "missing column(s): max_glu_serum" in result.output
    assert "Traceback" not in result.output
    unknown = runner.invoke(app, ["train", "readmission", "--families", "xgb"], env=env)
    assert unknown.exit_code == 2 and "unknown model family xgb" in unknown.output


def test_validate_command_fails_a_broken_batch(database_url, training_home, tmp_path) -> None:
    from services.training.readmission_synthetic import generate_readmission

    frame = generate_readmission(4000, seed=2)
    late = frame.index >= 3000
    frame["num_medications"] = frame["num_medications"].astype(object)
    frame.loc[late, "num_medications"] = "?"
    path = tmp_path / "diabetic_data.csv"
    frame.to_csv(path, index=False)
    env = _env(database_url, training_home, BEACON_INITIAL_SHARE="0.2")
    result = runner.invoke(
        app, ["train", "validate", "--data", str(path), "--batch", "4", "--batches", "4"], env=env
    )
    # The loader refuses '?' in an integer column before any gate runs.
    assert result.exit_code == 2 and "num_medications" in result.output
    frame.loc[late, "num_medications"] = 500
    frame.to_csv(path, index=False)
    result = runner.invoke(
        app, ["train", "validate", "--data", str(path), "--batch", "4", "--batches", "4"], env=env
    )
    assert result.exit_code == 1, result.output
    assert "FAIL range: num_medications" in result.output
    ok = runner.invoke(
        app, ["train", "validate", "--data", str(path), "--batch", "1", "--batches", "4"], env=env
    )
    assert ok.exit_code == 0, ok.output


def test_training_on_scrambled_labels_is_stopped_by_the_gates(
    database_url, training_settings, small_frame, model_name
) -> None:
    frame = small_frame.copy()
    frame["readmitted"] = frame["readmitted"].sample(frac=1.0, random_state=0).to_numpy()
    outcome = train_readmission(
        training_settings,
        database_url=database_url,
        frame=frame,
        run_id="scrambled",
        families=["logreg"],
        trials=1,
        model_name=model_name,
    )
    assert not outcome.passed
    failed = [g.name for g in outcome.gates if not g.passed]
    assert failed == ["performance floor (LogisticRegression)"]
    assert outcome.version is None
    assert registry.alias_version(model_name, registry.CHAMPION, training_settings) is None

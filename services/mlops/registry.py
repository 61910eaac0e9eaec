"""MLflow registry: log and register models, move the champion alias, roll back, list versions."""

from __future__ import annotations

import json
import logging
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.core.errors import BeaconError, InputError

if TYPE_CHECKING:
    import pandas as pd
    from mlflow.entities.model_registry import ModelVersion
    from mlflow.models.model import ModelInfo
    from mlflow.tracking import MlflowClient

    from services.core.settings import CoreSettings

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
# Model-version tags the serving side reads (names are a contract: keep them stable).
TAG_THRESHOLD = "beacon.threshold"
TAG_TRAINED_AT = "beacon.trained_at"
TAG_ROC_AUC_TEST = "beacon.roc_auc_test"
TAG_FAMILY = "beacon.model_family"
TAG_RUN_ID = "beacon.run_id"
TAG_PROMOTED_AT = "beacon.promoted_at"
TAG_ROLLED_BACK_AT = "beacon.rolled_back_at"
# Registered-model tags: what `rollback` restores, and the champions so far (oldest first).
TAG_PREVIOUS_CHAMPION = "beacon.previous_champion"
TAG_CHAMPION_HISTORY = "beacon.champion_history"
LISTED_METRICS = ("test_roc_auc", "test_pr_auc", "test_brier", "val_roc_auc")
# MLflow's error code for "no such registered model / version". Only that means "not
# registered": an auth, network or server error must reach the caller, not read as absence.
NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
# Looking up an alias: the SQL store reports a missing alias as an invalid parameter.
ALIAS_ABSENT = frozenset({NOT_FOUND, "INVALID_PARAMETER_VALUE"})


def is_not_found(exc: BaseException, codes: frozenset[str] = frozenset({NOT_FOUND})) -> bool:
    """Whether `exc` is MLflow saying the model (or, with ALIAS_ABSENT, the alias) is absent."""
    from mlflow.exceptions import MlflowException

    return isinstance(exc, MlflowException) and exc.error_code in codes


def mlflow_tracking_uri(settings: CoreSettings) -> str:
    """The configured tracking URI, or the local SQLite store under `<home>/mlflow`."""
    uri = getattr(settings, "mlflow_tracking_uri", None)
    if uri:
        return uri
    return f"sqlite:///{_local_root(settings) / 'mlflow.db'}"


def _local_root(settings: CoreSettings) -> Path:
    return settings.home.resolve() / "mlflow"


def configure_mlflow(settings: CoreSettings) -> str:
    """Point this process's MLflow client (tracking and registry) at Beacon's store.

    MLflow also exports the URI as MLFLOW_TRACKING_URI, so settings read later in the same
    process (and subprocesses) see the same store.
    """
    import mlflow

    uri = mlflow_tracking_uri(settings)
    if uri.startswith("sqlite:///"):
        _local_root(settings).mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def ensure_experiment(name: str, settings: CoreSettings) -> str:
    """The id of experiment `name`, created (with local artifacts under <home>) if absent."""
    import mlflow

    uri = configure_mlflow(settings)
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = None
    if uri.startswith("sqlite:///"):
        # A SQLite store has no artifact root of its own: without one MLflow would write
        # artifacts to ./mlruns in whatever folder the process runs in.
        db_path = Path(uri.removeprefix("sqlite:///")).resolve()
        location = (db_path.parent / "artifacts" / name).as_uri()
    return mlflow.create_experiment(name, artifact_location=location)


def client(settings: CoreSettings) -> MlflowClient:
    """An MLflow client on Beacon's tracking and registry store."""
    from mlflow.tracking import MlflowClient

    uri = configure_mlflow(settings)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def log_sklearn_model(
    model: Any,
    input_example: pd.DataFrame,
    *,
    pip_requirements: list[str] | None = None,
    artifact_name: str = "model",
) -> ModelInfo:
    """Log a fitted scikit-learn model in the active run, with a signature and an example.

    The pyfunc flavour returns `predict_proba`, so `mlflow models serve` gives probabilities
    too. Requirements are given, not inferred: inference loads the model in a subprocess.
    """
    import mlflow
    from mlflow.models import infer_signature

    # Integer columns typed as doubles: a pyfunc request may then carry a missing number.
    example = input_example.astype(
        {c: "float64" for c in input_example.columns if input_example[c].dtype.kind in "iu"}
    )
    signature = infer_signature(example, model.predict_proba(example))
    return mlflow.sklearn.log_model(
        model,
        name=artifact_name,
        signature=signature,
        input_example=example,
        pip_requirements=pip_requirements or default_requirements(model),
        pyfunc_predict_fn="predict_proba",
        serialization_format="skops",
        skops_trusted_types=trusted_types(model),
    )


TRUSTED_MODULES = ("services.", "sklearn.", "numpy.", "lightgbm.", "collections.")


def trusted_types(model: Any) -> list[str]:
    """The non-default types skops must accept to load `model`, if all are from known modules.

    Saved as skops rather than pickle so loading cannot run arbitrary code; anything outside
    Beacon, scikit-learn, NumPy and LightGBM is refused at save time.
    """
    import skops.io

    types = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    foreign = [t for t in types if not t.startswith(TRUSTED_MODULES)]
    if foreign:
        raise BeaconError(f"model holds types skops would not trust: {', '.join(foreign)}")
    return types


def default_requirements(model: Any) -> list[str]:
    """Pinned versions of the libraries a Beacon scikit-learn pipeline needs to load."""
    from importlib.metadata import version

    names = ["mlflow", "scikit-learn", "pandas", "numpy", "skops"]
    if "lightgbm" in repr(model).lower():
        names.append("lightgbm")
    return [f"{n}=={version(n)}" for n in names]


def register_logged_model(
    name: str,
    model_uri: str,
    *,
    threshold: float,
    family: str,
    roc_auc_test: float | None = None,
    tags: dict[str, str] | None = None,
    alias: str | None = CHALLENGER,
    settings: CoreSettings,
) -> ModelVersion:
    """Register a logged model as a new version of `name`, tag it, and point `alias` at it."""
    import mlflow

    configure_mlflow(settings)
    version_tags = {
        TAG_THRESHOLD: repr(float(threshold)),
        TAG_TRAINED_AT: datetime.now(UTC).isoformat(timespec="seconds"),
        TAG_FAMILY: family,
        **({TAG_ROC_AUC_TEST: f"{roc_auc_test:.6f}"} if roc_auc_test is not None else {}),
        **(tags or {}),
    }
    version = mlflow.register_model(model_uri, name, tags=version_tags)
    if alias:
        client(settings).set_registered_model_alias(name, alias, version.version)
    log.info(
        "registered model version",
        extra={"model": name, "version": version.version, "alias": alias},
    )
    return version


def register_model(
    name: str,
    model: Any,
    input_example: pd.DataFrame,
    *,
    threshold: float,
    family: str,
    metrics: dict[str, float] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
    alias: str | None = CHALLENGER,
    settings: CoreSettings,
) -> ModelVersion:
    """Log `model` (in the active run, or a new run of experiment `name`) and register it.

    `metrics` are logged on the run (use `test_roc_auc`, `test_pr_auc`, `test_brier`);
    `test_roc_auc` also becomes the version tag `beacon.roc_auc_test`. The new version gets
    `alias` (default `challenger`); promotion to `champion` is `promote`'s job.
    """
    import mlflow

    configure_mlflow(settings)
    active = mlflow.active_run()
    run = (
        nullcontext(active)
        if active
        else mlflow.start_run(
            experiment_id=ensure_experiment(name, settings), run_name=f"{name}-{family}"
        )
    )
    with run:
        if metrics:
            mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        if params:
            mlflow.log_params(params)
        info = log_sklearn_model(model, input_example)
    return register_logged_model(
        name,
        info.model_uri,
        threshold=threshold,
        family=family,
        roc_auc_test=(metrics or {}).get("test_roc_auc"),
        tags=tags,
        alias=alias,
        settings=settings,
    )


def alias_version(name: str, alias: str, settings: CoreSettings) -> ModelVersion | None:
    """The version `alias` points at, or None (no such model or alias; other errors raise)."""
    from mlflow.exceptions import MlflowException

    try:
        return client(settings).get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        if is_not_found(exc, ALIAS_ABSENT):
            return None
        raise


def load_model(name: str, version: str, settings: CoreSettings) -> Any:
    """The scikit-learn pipeline of one registered version."""
    import mlflow

    configure_mlflow(settings)
    return mlflow.sklearn.load_model(f"models:/{name}/{version}")


@dataclass(frozen=True)
class AliasMove:
    """What `promote` or `rollback` did."""

    name: str
    version: str
    previous: str | None
    changed: bool

    def describe(self, verb: str) -> str:
        if not self.changed:
            return f"{self.name}: version {self.version} already is the {CHAMPION}"
        before = f" (was {self.previous})" if self.previous else ""
        return f"{self.name}: {verb} version {self.version} to {CHAMPION}{before}"


def promote(name: str, settings: CoreSettings, version: str | None = None) -> AliasMove:
    """Point `champion` at `version` (default: the `challenger`) and record the old champion.

    Gates are not run here: training runs them before calling this; an operator calling it
    directly is overriding them on purpose.
    """
    mlflow_client = client(settings)
    _registered(mlflow_client, name)
    if version is None:
        challenger = alias_version(name, CHALLENGER, settings)
        if challenger is None:
            raise InputError(f"{name}: no version has the alias {CHALLENGER!r}; pass --version")
        version = str(challenger.version)
    _version(mlflow_client, name, str(version))
    current = alias_version(name, CHAMPION, settings)
    previous = str(current.version) if current else None
    if previous == str(version):
        return AliasMove(name, str(version), previous, changed=False)
    history = _history(mlflow_client, name)
    if previous and (not history or history[-1] != previous):
        history.append(previous)  # the alias was moved outside Beacon
    history.append(str(version))
    mlflow_client.set_registered_model_alias(name, CHAMPION, str(version))
    mlflow_client.set_model_version_tag(name, str(version), TAG_PROMOTED_AT, _now())
    _write_history(mlflow_client, name, history)
    log.info("promoted", extra={"model": name, "version": version, "previous": previous})
    return AliasMove(name, str(version), previous, changed=True)


def rollback(name: str, settings: CoreSettings) -> AliasMove:
    """Give `champion` back to the recorded previous champion; one command, no arguments."""
    mlflow_client = client(settings)
    model = _registered(mlflow_client, name)
    target = model.tags.get(TAG_PREVIOUS_CHAMPION)
    if not target:
        raise InputError(f"{name}: no previous champion recorded; nothing to roll back to")
    _version(mlflow_client, name, target)
    current = alias_version(name, CHAMPION, settings)
    history = _history(mlflow_client, name)
    while history and history[-1] != target:
        history.pop()  # drop the champion(s) being rolled back
    if not history:
        history = [target]
    mlflow_client.set_registered_model_alias(name, CHAMPION, target)
    if current:
        mlflow_client.set_model_version_tag(name, str(current.version), TAG_ROLLED_BACK_AT, _now())
    _write_history(mlflow_client, name, history)
    log.info("rolled back", extra={"model": name, "version": target})
    return AliasMove(name, target, str(current.version) if current else None, changed=True)


@dataclass(frozen=True)
class VersionInfo:
    """One registered version as `beacon model list` shows it."""

    version: str
    aliases: list[str]
    family: str
    trained_at: str
    threshold: str
    metrics: dict[str, float] = field(default_factory=dict)


def list_models(name: str, settings: CoreSettings) -> list[VersionInfo]:
    """Every version of `name`, newest first, with aliases, training time and test metrics."""
    mlflow_client = client(settings)
    model = _registered(mlflow_client, name)
    # Version search results leave aliases empty; the registered model has them all.
    aliases: dict[str, list[str]] = {}
    for alias, version in (model.aliases or {}).items():
        aliases.setdefault(str(version), []).append(alias)
    rows = []
    versions = mlflow_client.search_model_versions(f"name = '{_quote(name)}'")
    for mv in sorted(versions, key=lambda v: int(v.version), reverse=True):
        metrics: dict[str, float] = {}
        if mv.run_id:
            run_metrics = mlflow_client.get_run(mv.run_id).data.metrics
            metrics = {k: run_metrics[k] for k in LISTED_METRICS if k in run_metrics}
        rows.append(
            VersionInfo(
                version=str(mv.version),
                aliases=sorted(aliases.get(str(mv.version), [])),
                family=mv.tags.get(TAG_FAMILY, ""),
                trained_at=mv.tags.get(TAG_TRAINED_AT, ""),
                threshold=mv.tags.get(TAG_THRESHOLD, ""),
                metrics=metrics,
            )
        )
    return rows


def _registered(mlflow_client: MlflowClient, name: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return mlflow_client.get_registered_model(name)
    except MlflowException as exc:
        raise InputError(f"no registered model named {name!r}") from exc


def _version(mlflow_client: MlflowClient, name: str, version: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return mlflow_client.get_model_version(name, version)
    except MlflowException as exc:
        raise InputError(f"{name}: no version {version}") from exc


def _history(mlflow_client: MlflowClient, name: str) -> list[str]:
    raw = mlflow_client.get_registered_model(name).tags.get(TAG_CHAMPION_HISTORY, "[]")
    try:
        return [str(v) for v in json.loads(raw)]
    except (ValueError, TypeError):
        return []


def _write_history(mlflow_client: MlflowClient, name: str, history: list[str]) -> None:
    history = history[-50:]  # a tag value is limited in size; old champions do not matter
    mlflow_client.set_registered_model_tag(name, TAG_CHAMPION_HISTORY, json.dumps(history))
    if len(history) >= 2:
        mlflow_client.set_registered_model_tag(name, TAG_PREVIOUS_CHAMPION, history[-2])
    else:
        try:
            mlflow_client.delete_registered_model_tag(name, TAG_PREVIOUS_CHAMPION)
        except Exception as exc:  # absent tag: nothing to delete
            log.debug("no previous champion tag to delete", exc_info=exc)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _quote(text: str) -> str:
    return text.replace("'", "''")

"""Model families: Optuna search spaces, calibrated final estimators, native importances."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.core.errors import InputError

Suggest = Callable[[Any, int, int], Any]  # (optuna trial, seed, threads) -> unfitted estimator


@dataclass(frozen=True)
class Family:
    """A model family: its search space, and whether its probabilities need calibration."""

    name: str
    label: str
    suggest: Suggest
    build: Callable[[dict[str, Any], int, int], Any]  # (params, seed, threads) -> estimator
    needs_calibration: bool


def _logreg(params: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=params["C"], max_iter=2000, random_state=seed)


def _suggest_logreg(trial: Any, seed: int, threads: int) -> Any:
    return _logreg({"C": trial.suggest_float("C", 1e-3, 10.0, log=True)}, seed, threads)


def _forest(params: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=params["n_estimators"],
        max_depth=params["max_depth"],
        min_samples_leaf=params["min_samples_leaf"],
        max_features=params["max_features"],
        n_jobs=threads,
        random_state=seed,
    )


def _suggest_forest(trial: Any, seed: int, threads: int) -> Any:
    # Few, shallow-ish trees: a one-row prediction walks every tree, and serving has a
    # latency budget of a few milliseconds.
    params = {
        "n_estimators": trial.suggest_int("n_estimators", 50, 250, step=50),
        "max_depth": trial.suggest_int("max_depth", 4, 14),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 5, 100, log=True),
        "max_features": trial.suggest_float("max_features", 0.05, 0.5, log=True),
    }
    return _forest(params, seed, threads)


def _hist_gb(params: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        learning_rate=params["learning_rate"],
        max_iter=params["max_iter"],
        max_leaf_nodes=params["max_leaf_nodes"],
        min_samples_leaf=params["min_samples_leaf"],
        l2_regularization=params["l2_regularization"],
        early_stopping=True,
        n_iter_no_change=15,
        random_state=seed,
    )


def _suggest_hist_gb(trial: Any, seed: int, threads: int) -> Any:
    params = {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
        "max_iter": trial.suggest_int("max_iter", 50, 400, step=50),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 4, 48, log=True),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 10, 300, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 1e-4, 10.0, log=True),
    }
    return _hist_gb(params, seed, threads)


def _lightgbm(params: dict[str, Any], seed: int, threads: int) -> Any:
    from lightgbm import LGBMClassifier

    return LGBMClassifier(
        n_estimators=params["n_estimators"],
        learning_rate=params["learning_rate"],
        num_leaves=params["num_leaves"],
        min_child_samples=params["min_child_samples"],
        subsample=params["subsample"],
        subsample_freq=1,
        colsample_bytree=params["colsample_bytree"],
        reg_lambda=params["reg_lambda"],
        n_jobs=threads,
        random_state=seed,
        verbose=-1,
    )


def _suggest_lightgbm(trial: Any, seed: int, threads: int) -> Any:
    params = {
        "n_estimators": trial.suggest_int("n_estimators", 50, 400, step=50),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, 64, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 10, 300, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }
    return _lightgbm(params, seed, threads)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        # Logistic regression is calibrated by construction (it fits log-loss).
        Family("logreg", "LogisticRegression", _suggest_logreg, _logreg, False),
        Family("random_forest", "RandomForest", _suggest_forest, _forest, True),
        Family("hist_gb", "HistGradientBoosting", _suggest_hist_gb, _hist_gb, True),
        Family("lightgbm", "LightGBM", _suggest_lightgbm, _lightgbm, True),
    )
}


def parse_families(text: str | list[str] | tuple[str, ...]) -> list[str]:
    """Family names from `a,b` or a list; unknown names are an InputError naming them."""
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [n.strip() for item in items for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in FAMILIES]
    if unknown or not names:
        raise InputError(
            f"unknown model family {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(FAMILIES)}"
        )
    return list(dict.fromkeys(names))


def final_estimator(family: Family, params: dict[str, Any], seed: int, threads: int) -> Any:
    """The estimator refit on the whole training split, calibrated when the family needs it.

    Platt scaling on 3-fold out-of-fold scores; `ensemble=False` keeps one refit model, so
    prediction costs one model, not three.
    """
    estimator = family.build(params, seed, threads)
    if not family.needs_calibration:
        return estimator
    from sklearn.calibration import CalibratedClassifierCV

    return CalibratedClassifierCV(estimator, method="sigmoid", cv=3, ensemble=False)


def native_importances(estimator: Any) -> np.ndarray | None:
    """Impurity/split importances of trees, |coefficients| of linear models, else None."""
    inner = estimator
    if hasattr(estimator, "calibrated_classifiers_"):
        inner = estimator.calibrated_classifiers_[0].estimator
    if hasattr(inner, "feature_importances_"):
        values = np.asarray(inner.feature_importances_, dtype=float)
    elif hasattr(inner, "coef_"):
        values = np.abs(np.asarray(inner.coef_, dtype=float)).ravel()
    else:
        return None  # HistGradientBoosting has no built-in importances
    total = values.sum()
    return values / total if total > 0 else values

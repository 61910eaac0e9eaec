"""Train the resume-job match classifier on labelled pairs and compare it with the rule.

Labels come from the generator's ground truth stored with each document (`role_family`,
`seniority`): see `match_features.is_match`. The similarity rule only sees the role family
through the text, so it cannot tell a principal from an intern of the same family; the
classifier also sees title wording, the seniority gap and location fit.

Resumes and postings are split by id before pairing, so no document of a test pair was seen in
training; pairs are a uniform sample of resume x posting, so the base rate (and therefore the
calibration) is that of a random pair, like the rule's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from services.core.database import Database
from services.core.errors import BeaconError
from services.jobs.match import COEF_SIMILARITY, COEF_SKILL_OVERLAP, INTERCEPT
from services.jobs.match_features import (
    FEATURE_NAMES,
    is_match,
    location_fit,
    seniority_gap,
    title_tokens,
)
from services.mlops.metrics import classification_metrics

MODEL_NAME = "job-match"
MODEL_FAMILY = "hist_gb_isotonic"
#: Calibrated probabilities: "match" when a match is more likely than not (as the rule).
THRESHOLD = 0.5
#: Share of pairs whose seniority (or location) is hidden in training, so the model has learnt
#: what to do with pasted text whose level or place cannot be read.
MISSING_SENIORITY_RATE = 0.15
MISSING_LOCATION_RATE = 0.3


class NoTrainingData(BeaconError):
    """The database holds too few labelled, embedded documents to train on."""


@dataclass
class Documents:
    """One side of the pairs: ids, unit vectors and what the features and labels need."""

    ids: list[str]
    vectors: np.ndarray
    skills: list[frozenset[str]]
    titles: list[frozenset[str]]
    seniority: list[str | None]
    location: list[str | None]
    remote: list[bool]
    family: list[str | None]

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, mask: np.ndarray) -> Documents:
        """The documents where mask is true."""
        pick = np.flatnonzero(mask)
        return Documents(
            ids=[self.ids[i] for i in pick],
            vectors=self.vectors[pick],
            skills=[self.skills[i] for i in pick],
            titles=[self.titles[i] for i in pick],
            seniority=[self.seniority[i] for i in pick],
            location=[self.location[i] for i in pick],
            remote=[self.remote[i] for i in pick],
            family=[self.family[i] for i in pick],
        )


@dataclass
class PairSet:
    """Feature frame (FEATURE_NAMES), labels, and the rule's probability for the same pairs."""

    features: pd.DataFrame
    label: np.ndarray
    rule_probability: np.ndarray


@dataclass
class MatchTrainingResult:
    """The fitted model, held-out pairs, metrics of model and rule, and the run's parameters."""

    model: Any
    test: PairSet
    metrics: dict[str, float]
    calibration: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class MatchTrainingOutcome:
    """What `beacon train match` did: metrics, registered version, gate and promotion."""

    result: MatchTrainingResult
    version: str
    gate: Any
    promoted: Any = None


def _vectors(rows: list[tuple], column: int) -> np.ndarray:
    values = [r[column] for r in rows]
    return np.stack(
        [np.asarray(v.to_numpy() if hasattr(v, "to_numpy") else v, np.float32) for v in values]
    )


def _skillset(skills: list[str]) -> frozenset[str]:
    return frozenset(s.strip().lower() for s in skills if s.strip())


def load_documents(db: Database) -> tuple[Documents, Documents]:
    """Embedded resumes and postings that carry a role family (the ground truth)."""
    with db.connection() as conn:
        resumes = conn.execute(
            "SELECT resume_id, embedding, skills, headline, seniority, location, role_family"
            " FROM resumes WHERE embedding IS NOT NULL AND role_family IS NOT NULL"
            " ORDER BY resume_id"
        ).fetchall()
        postings = conn.execute(
            "SELECT job_id, embedding, skills, title, seniority, location, remote, role_family"
            " FROM job_postings WHERE embedding IS NOT NULL AND role_family IS NOT NULL"
            " ORDER BY job_id"
        ).fetchall()
    if len(resumes) < 20 or len(postings) < 20:
        raise NoTrainingData(
            f"need at least 20 embedded resumes and postings with a role_family, found "
            f"{len(resumes)} and {len(postings)}: run `beacon data generate` and "
            "`beacon embed refresh` first"
        )
    return (
        Documents(
            ids=[r[0] for r in resumes],
            vectors=_vectors(resumes, 1),
            skills=[_skillset(r[2]) for r in resumes],
            titles=[title_tokens(r[3]) for r in resumes],
            seniority=[r[4] for r in resumes],
            location=[r[5] for r in resumes],
            remote=[False] * len(resumes),
            family=[r[6] for r in resumes],
        ),
        Documents(
            ids=[r[0] for r in postings],
            vectors=_vectors(postings, 1),
            skills=[_skillset(r[2]) for r in postings],
            titles=[title_tokens(r[3]) for r in postings],
            seniority=[r[4] for r in postings],
            location=[r[5] for r in postings],
            remote=[bool(r[6]) for r in postings],
            family=[r[7] for r in postings],
        ),
    )


def test_mask(ids: list[str], test_share: float, seed: int) -> np.ndarray:
    """True for ids in the held-out share; a hash of seed and id, so stable across runs."""
    cut = int(test_share * 10_000)
    return np.array(
        [
            int(hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()[:8], 16) % 10_000 < cut
            for i in ids
        ]
    )


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def rule_probability(similarity: np.ndarray, overlap: np.ndarray) -> np.ndarray:
    """The similarity rule of services.jobs.match, vectorised."""
    z = COEF_SIMILARITY * similarity + COEF_SKILL_OVERLAP * overlap + INTERCEPT
    return 1.0 / (1.0 + np.exp(-z))


def build_pairs(
    resumes: Documents,
    postings: Documents,
    max_pairs: int,
    rng: np.random.Generator,
    *,
    hide_rates: tuple[float, float] = (0.0, 0.0),
) -> PairSet:
    """All resume x posting pairs, or a uniform sample of max_pairs of them, with features.

    hide_rates (seniority, location) blank those features on a random share of pairs.
    """
    total = len(resumes) * len(postings)
    flat = (
        np.arange(total)
        if total <= max_pairs
        else np.sort(rng.choice(total, size=max_pairs, replace=False))
    )
    ri, pi = np.divmod(flat, len(postings))
    similarity = np.einsum("ij,ij->i", resumes.vectors[ri], postings.vectors[pi]).astype(float)
    similarity = np.clip(similarity, -1.0, 1.0)
    overlap = np.array(
        [_jaccard(resumes.skills[r], postings.skills[p]) for r, p in zip(ri, pi, strict=True)]
    )
    titles = np.array(
        [
            _jaccard(resumes.titles[r], postings.titles[p])
            if resumes.titles[r] and postings.titles[p]
            else 0.0
            for r, p in zip(ri, pi, strict=True)
        ]
    )
    gap = np.array(
        [
            seniority_gap(resumes.seniority[r], postings.seniority[p])
            for r, p in zip(ri, pi, strict=True)
        ]
    )
    place = np.array(
        [
            location_fit(resumes.location[r], postings.location[p], postings.remote[p])
            for r, p in zip(ri, pi, strict=True)
        ]
    )
    label = np.array(
        [
            is_match(
                resumes.family[r], postings.family[p], resumes.seniority[r], postings.seniority[p]
            )
            for r, p in zip(ri, pi, strict=True)
        ]
    )
    hide_seniority, hide_location = hide_rates
    gap[rng.random(len(gap)) < hide_seniority] = np.nan
    place[rng.random(len(place)) < hide_location] = np.nan
    frame = pd.DataFrame(
        dict(zip(FEATURE_NAMES, (similarity, overlap, titles, gap, place), strict=True))
    )
    return PairSet(frame, label, rule_probability(similarity, overlap))


def make_classifier(seed: int, cv: int = 3) -> Any:
    """Gradient-boosted trees (native NaN handling) wrapped in isotonic calibration."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier

    trees = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.1,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        random_state=seed,
    )
    # ensemble=False: one refit model behind the calibrator, so serving pays one prediction.
    return CalibratedClassifierCV(trees, method="isotonic", cv=cv, ensemble=False)


def calibration_table(
    probability: np.ndarray, label: np.ndarray, bins: int = 10
) -> list[dict[str, Any]]:
    """Mean prediction and observed rate per equal-width probability bin (empty bins left out)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(probability, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            table.append(
                {
                    "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                    "n": int(mask.sum()),
                    "mean_probability": round(float(probability[mask].mean()), 4),
                    "observed_rate": round(float(label[mask].mean()), 4),
                }
            )
    return table


def score(probability: np.ndarray, label: np.ndarray, prefix: str) -> dict[str, float]:
    """ROC AUC, PR AUC, Brier score and ECE under `prefix` (services.mlops.metrics)."""
    return classification_metrics(label, probability, prefix)


def train_match_classifier(
    db: Database,
    *,
    seed: int = 7,
    test_share: float = 0.25,
    max_pairs: int = 150_000,
    cv: int = 3,
) -> MatchTrainingResult:
    """Split documents, build pairs, fit the calibrated classifier, score it and the rule on
    held-out pairs (test resumes x test postings)."""
    resumes, postings = load_documents(db)
    rng = np.random.default_rng(seed)
    r_test, p_test = (
        test_mask(resumes.ids, test_share, seed),
        test_mask(postings.ids, test_share, seed),
    )
    train = build_pairs(
        resumes.subset(~r_test),
        postings.subset(~p_test),
        max_pairs,
        rng,
        hide_rates=(MISSING_SENIORITY_RATE, MISSING_LOCATION_RATE),
    )
    test = build_pairs(resumes.subset(r_test), postings.subset(p_test), max_pairs // 3, rng)
    if train.label.sum() < 2 * cv or test.label.sum() < 5 or test.label.min() == 1:
        raise NoTrainingData(
            f"too few matching pairs to train and test ({int(train.label.sum())} train, "
            f"{int(test.label.sum())} test): load a larger labelled corpus"
        )
    from threadpoolctl import threadpool_limits

    model = make_classifier(seed, cv)
    # One thread: OpenMP's spinning workers make these small boosted-tree fits many times
    # slower on a busy 2-core machine (measured 14 s vs 0.5 s), and the fit is short anyway.
    with threadpool_limits(1):
        model.fit(train.features, train.label)
        probability = model.predict_proba(test.features)[:, 1]
    metrics = {
        **score(probability, test.label, "test_"),
        **score(test.rule_probability, test.label, "rule_test_"),
        # Not `test_*`: those are the scores /v1/model/info reports.
        "train_pairs": float(len(train.label)),
        "held_out_pairs": float(len(test.label)),
        "train_match_rate": float(train.label.mean()),
        "held_out_match_rate": float(test.label.mean()),
    }
    params = {
        "seed": seed,
        "test_share": test_share,
        "max_pairs": max_pairs,
        "calibration": "isotonic",
        "calibration_cv": cv,
        "features": ",".join(FEATURE_NAMES),
        "label": "same role_family and seniority gap <= 1",
        "resumes": len(resumes),
        "postings": len(postings),
    }
    return MatchTrainingResult(
        model, test, metrics, calibration_table(probability, test.label), params
    )


def train_match(
    settings: Any,
    db: Database,
    *,
    database_url: str,
    model_name: str = MODEL_NAME,
    seed: int = 7,
    max_pairs: int = 150_000,
    say: Any = lambda _: None,
) -> MatchTrainingOutcome:
    """Train, log to MLflow, register as challenger, and promote through the same
    champion/challenger gate as the readmission model (test ROC AUC, settings' margin).

    `settings` are TrainingSettings (MLflow store, promotion margin).
    """
    import mlflow

    from services.core.locks import job_lock
    from services.mlops import registry
    from services.mlops.gates import champion_challenger_gate

    say(f"training {model_name}: pairs from the stored, embedded corpus")
    result = train_match_classifier(db, seed=seed, max_pairs=max_pairs)
    m = result.metrics
    say(
        f"held-out pairs {int(m['held_out_pairs'])} ({m['held_out_match_rate']:.1%} matches): "
        f"classifier ROC AUC {m['test_roc_auc']:.4f}, Brier {m['test_brier']:.4f}, "
        f"ECE {m['test_ece']:.4f} | rule ROC AUC {m['rule_test_roc_auc']:.4f}, "
        f"Brier {m['rule_test_brier']:.4f}, ECE {m['rule_test_ece']:.4f}"
    )
    registry.configure_mlflow(settings)
    experiment_id = registry.ensure_experiment(model_name, settings)
    with job_lock(database_url, f"promote:{model_name}"):
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"{model_name}-train"):
            mlflow.log_dict({"bins": result.calibration}, "calibration.json")
            registered = registry.register_model(
                model_name,
                result.model,
                result.test.features.head(5),
                threshold=THRESHOLD,
                family=MODEL_FAMILY,
                metrics=result.metrics,
                params=result.params,
                settings=settings,
            )
        version = str(registered.version)
        say(f"registered {model_name} version {version} as challenger")
        gate = champion_challenger_gate(
            model_name,
            version,
            result.test.features,
            result.test.label,
            margin=settings.promotion_margin,
            settings=settings,
        )
        say(gate.report())
        outcome = MatchTrainingOutcome(result, version, gate)
        if gate.passed:
            outcome.promoted = registry.promote(model_name, settings, version)
            say(outcome.promoted.describe("promoted"))
    return outcome

"""Offline calibration of the match rule: `python -m services.jobs.match_calibration`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.embeddings.encoder import Encoder
from services.embeddings.pooling import embed_texts
from services.jobs.documents import JobPosting, Resume, posting_text, resume_text
from services.jobs.match import skill_overlap
from services.mlops.metrics import classification_metrics


@dataclass
class PairSet:
    """Features (similarity, skill_overlap) and labels (same role family) of resume x job pairs."""

    similarity: np.ndarray
    overlap: np.ndarray
    label: np.ndarray

    @property
    def features(self) -> np.ndarray:
        """An (n, 2) matrix: similarity, skill_overlap."""
        return np.column_stack([self.similarity, self.overlap])


def pair_features(
    resume_vectors: np.ndarray,
    resume_skills: Sequence[Sequence[str]],
    resume_families: Sequence[str | None],
    posting_vectors: np.ndarray,
    posting_skills: Sequence[Sequence[str]],
    posting_families: Sequence[str | None],
) -> PairSet:
    """Every resume x posting pair; label 1 when both share a role family."""
    similarity = (resume_vectors @ posting_vectors.T).ravel()
    overlap = np.array([skill_overlap(r, p) for r in resume_skills for p in posting_skills])
    label = np.array([int(r == p) for r in resume_families for p in posting_families])
    return PairSet(similarity.astype(np.float64), overlap, label)


def corpus_pairs(
    postings: Sequence[JobPosting],
    resumes: Sequence[Resume],
    encoder: Encoder,
    chunk_words: int,
    overlap_words: int,
) -> PairSet:
    """Pairs of a generated corpus, embedded in-process exactly as the refresh would."""
    posting_vectors = embed_texts(
        encoder, [posting_text(p) for p in postings], chunk_words, overlap_words
    )
    resume_vectors = embed_texts(
        encoder, [resume_text(r) for r in resumes], chunk_words, overlap_words
    )
    return pair_features(
        resume_vectors,
        [r.skills for r in resumes],
        [r.role_family for r in resumes],
        posting_vectors,
        [p.skills for p in postings],
        [p.role_family for p in postings],
    )


def fit_constants(pairs: PairSet) -> tuple[float, float, float]:
    """Logistic regression on (similarity, skill_overlap): returns (a, b, c).

    A large C makes the fit practically unregularised: with two features and tens of thousands
    of pairs there is nothing to overfit, and a penalty would bias the probabilities.
    """
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6, max_iter=1000)
    model.fit(pairs.features, pairs.label)
    a, b = (float(v) for v in model.coef_[0])
    return a, b, float(model.intercept_[0])


def predict(pairs: PairSet, a: float, b: float, c: float) -> np.ndarray:
    """sigmoid(a*similarity + b*skill_overlap + c) for every pair (the rule in match.py)."""
    return 1.0 / (1.0 + np.exp(-(a * pairs.similarity + b * pairs.overlap + c)))


def calibration_report(
    probability: np.ndarray, label: np.ndarray, bins: int = 5, min_bin_size: int = 30
) -> dict:
    """Classification metrics (services.mlops.metrics) and per-bin mean prediction vs observed
    rate over equal-width bins (a reliability table for reading, not the ECE)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(probability, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        table.append(
            {
                "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                "n": n,
                "mean_probability": float(probability[mask].mean()) if n else None,
                "observed_rate": float(label[mask].mean()) if n else None,
                "checked": n >= min_bin_size,
            }
        )
    return {
        "pairs": len(label),
        "match_rate": float(label.mean()),
        "mean_probability": float(probability.mean()),
        **classification_metrics(label, probability),
        "bins": table,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Fit on one generated corpus, report calibration on another, print the constants."""
    from services.embeddings.encoder import get_encoder
    from services.embeddings.settings import EmbeddingSettings
    from services.jobs.synthetic import generate_corpus

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postings", type=int, default=1000, help="postings of the fit")
    parser.add_argument("--resumes", type=int, default=200, help="resumes of the fit")
    parser.add_argument("--seed", type=int, default=7, help="corpus seed of the fit")
    parser.add_argument("--check-postings", type=int, default=500)
    parser.add_argument("--check-resumes", type=int, default=500)
    parser.add_argument("--check-seed", type=int, default=23, help="corpus seed of the check")
    args = parser.parse_args(argv)

    settings = EmbeddingSettings()
    encoder = get_encoder(settings)

    def pairs_for(seed: int, n_postings: int, n_resumes: int) -> PairSet:
        corpus = generate_corpus(n_postings, n_resumes, seed)
        return corpus_pairs(
            corpus.postings,
            corpus.resumes,
            encoder,
            settings.chunk_words,
            settings.chunk_overlap_words,
        )

    fit = pairs_for(args.seed, args.postings, args.resumes)
    a, b, c = fit_constants(fit)
    check = pairs_for(args.check_seed, args.check_postings, args.check_resumes)
    probabilities = {name: predict(p, a, b, c) for name, p in (("fit", fit), ("check", check))}
    print(
        json.dumps(
            {
                "encoder": encoder.identity,
                "fit": calibration_report(probabilities["fit"], fit.label),
                "check": calibration_report(probabilities["check"], check.label),
            },
            indent=2,
        )
    )
    print(f"\nCOEF_SIMILARITY = {a:.4f}\nCOEF_SKILL_OVERLAP = {b:.4f}\nINTERCEPT = {c:.4f}")


if __name__ == "__main__":
    main()

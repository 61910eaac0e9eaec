"""ONNX int8 (the default) against the PyTorch reference: same vectors within tolerance, same
retrieval quality, its own model identity (switching re-embeds once), and a one-time export."""

from __future__ import annotations

import numpy as np
import pytest

from services.embeddings.chunking import chunk_text
from services.embeddings.encoder import get_encoder
from services.embeddings.onnx_export import exported_model
from services.embeddings.refresh import refresh_embeddings
from services.embeddings.settings import EmbeddingSettings
from services.jobs.documents import posting_text, resume_text
from services.jobs.store import upsert_postings, upsert_resumes

QUERIES = [
    "python backend engineer",
    "registered nurse, night shifts, intensive care",
    "Which jobs ask for Kubernetes experience?",
    "senior data engineer spark airflow aws remote",
    "financial analyst with excel and forecasting",
]


@pytest.fixture(scope="module")
def torch_encoder(embedding_settings):
    """The PyTorch backend with otherwise identical settings."""
    return get_encoder(embedding_settings.model_copy(update={"embedding_backend": "torch"}))


def _doc_vectors(encoder, texts: list[str], settings: EmbeddingSettings) -> np.ndarray:
    """Documents embedded as the refresh does: normalised mean of their chunk vectors."""
    chunks = [chunk_text(t, settings.chunk_words, settings.chunk_overlap_words) for t in texts]
    flat = encoder.encode([c for doc in chunks for c in doc])
    out, start = [], 0
    for doc in chunks:
        mean = flat[start : start + len(doc)].mean(axis=0)
        out.append(mean / np.linalg.norm(mean))
        start += len(doc)
    return np.stack(out)


def test_int8_onnx_vectors_match_torch(encoder, torch_encoder, jobs_corpus, embedding_settings):
    assert encoder.runtime.name == "onnx-int8", "ONNX int8 is the default backend"
    texts = [
        chunk
        for posting in jobs_corpus.postings[:25]
        for chunk in chunk_text(posting_text(posting), 120, 20)
    ]
    texts += [resume_text(r) for r in jobs_corpus.resumes[:20]] + QUERIES
    onnx, reference = encoder.encode(texts), torch_encoder.encode(texts)
    cosine = (onnx * reference).sum(axis=1)
    print(f"int8 vs torch over {len(texts)} texts: mean {cosine.mean():.4f} min {cosine.min():.4f}")
    assert cosine.mean() >= 0.99
    assert cosine.min() >= 0.97
    np.testing.assert_allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)


def test_fp32_onnx_is_torch_to_float_precision(torch_encoder, embedding_settings):
    fp32 = get_encoder(embedding_settings.model_copy(update={"embedding_quantization": "none"}))
    assert fp32.runtime.name == "onnx-fp32"
    cosine = (fp32.encode(QUERIES) * torch_encoder.encode(QUERIES)).sum(axis=1)
    assert cosine.min() >= 0.9999


@pytest.mark.slow  # encodes the session corpus (300 postings, 60 resumes) with both backends
def test_retrieval_precision_at_10_unchanged(
    encoder, torch_encoder, jobs_corpus, embedding_settings
):
    """Role-family precision@10 of resumes against postings, exact search, both backends.

    int8 must not lose more than 0.01 against torch; it may gain (measured on 150 postings x
    40 resumes: int8 0.730, torch 0.718).
    """
    postings = jobs_corpus.postings
    resumes = jobs_corpus.resumes
    precision = {}
    for name, enc in (("onnx-int8", encoder), ("torch", torch_encoder)):
        docs = _doc_vectors(enc, [posting_text(p) for p in postings], embedding_settings)
        queries = _doc_vectors(enc, [resume_text(r) for r in resumes], embedding_settings)
        top = np.argsort(-(queries @ docs.T), axis=1)[:, :10]
        shares = [
            np.mean([postings[j].role_family == resume.role_family for j in row])
            for resume, row in zip(resumes, top, strict=True)
        ]
        precision[name] = float(np.mean(shares))
    print(f"role-family precision@10: {precision}")
    assert precision["torch"] > 0.5, "the reference itself must retrieve something meaningful"
    assert precision["onnx-int8"] >= precision["torch"] - 0.01


def test_switching_backend_re_embeds_exactly_once(
    db, jobs_corpus, encoder, torch_encoder, embedding_settings
):
    assert encoder.identity != torch_encoder.identity
    assert encoder.identity.endswith(":onnx-int8") and torch_encoder.identity.endswith(":torch")
    with db.connection() as conn:
        upsert_postings(conn, jobs_corpus.postings[:12])
        upsert_resumes(conn, jobs_corpus.resumes[:4])
    assert refresh_embeddings(db, encoder, embedding_settings).embedded == 16
    switched = refresh_embeddings(db, torch_encoder, embedding_settings)
    assert switched.embedded == 16, "every vector of the other backend is re-embedded"
    assert refresh_embeddings(db, torch_encoder, embedding_settings).embedded == 0
    with db.connection() as conn:
        models = {r[0] for r in conn.execute("SELECT DISTINCT embedding_model FROM job_postings")}
    assert models == {torch_encoder.identity}


def test_export_happens_once_and_the_file_is_readable(encoder, embedding_settings, tmp_path):
    from services.embeddings.encoder import model_fingerprint, resolve_model_path

    path = resolve_model_path(embedding_settings.embedding_model)
    key = f"all-MiniLM-L6-v2-{model_fingerprint(path)}"
    cached = exported_model(path, embedding_settings.model_cache_dir, key, "int8")
    assert cached.stat().st_mode & 0o044 == 0o044, "other users (the image's app user) read it"
    before = cached.stat().st_mtime_ns
    assert exported_model(path, embedding_settings.model_cache_dir, key, "int8") == cached
    assert cached.stat().st_mtime_ns == before, "an exported model is reused, not rebuilt"
    assert not list(cached.parent.glob(".*.tmp")), "no half-written export is left behind"

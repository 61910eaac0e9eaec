"""A document's vector: the normalised mean of its chunk vectors (the one copy of the formula)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.embeddings.chunking import chunk_text
from services.embeddings.encoder import Encoder

# A zero mean (chunks that cancel out) stays a zero vector rather than dividing by zero.
_TINY = 1e-12


def pool_chunks(vectors: np.ndarray, counts: Sequence[int]) -> np.ndarray:
    """Unit-length mean of each document's consecutive chunk vectors (`counts` per document)."""
    if sum(counts) != len(vectors):
        raise ValueError(f"counts add up to {sum(counts)} chunks, but {len(vectors)} vectors given")
    if any(n < 1 for n in counts):
        raise ValueError("counts: every document needs at least one chunk")
    out = np.empty((len(counts), vectors.shape[1]), dtype=np.float32)
    start = 0
    for i, n in enumerate(counts):
        mean = vectors[start : start + n].mean(axis=0)
        out[i] = mean / max(float(np.linalg.norm(mean)), _TINY)
        start += n
    return out


def embed_texts(
    encoder: Encoder, texts: Sequence[str], chunk_words: int, overlap_words: int
) -> np.ndarray:
    """Unit vectors of free texts built the way the refresh builds stored documents' vectors."""
    chunks = [chunk_text(t, chunk_words, overlap_words) or [t] for t in texts]
    flat = encoder.encode([c for doc in chunks for c in doc])
    return pool_chunks(flat, [len(c) for c in chunks])

"""The one pooling formula: a document's vector is the unit-length mean of its chunk vectors."""

from __future__ import annotations

import numpy as np
import pytest

from services.embeddings.pooling import pool_chunks


def test_pool_chunks_means_then_normalises_each_document():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 4.0]], dtype=np.float32)
    pooled = pool_chunks(vectors, [2, 1])
    np.testing.assert_allclose(pooled[0], [2**-0.5, 2**-0.5], rtol=1e-6)
    np.testing.assert_allclose(pooled[1], [0.6, 0.8], rtol=1e-6)
    assert pooled.dtype == np.float32


def test_cancelling_chunks_give_a_zero_vector_not_nan():
    pooled = pool_chunks(np.array([[1.0, 0.0], [-1.0, 0.0]]), [2])
    assert np.all(pooled == 0)


def test_counts_must_match_the_vectors():
    with pytest.raises(ValueError, match="counts"):
        pool_chunks(np.zeros((3, 2)), [1, 1])
    with pytest.raises(ValueError, match="counts"):
        pool_chunks(np.zeros((1, 2)), [1, 0])

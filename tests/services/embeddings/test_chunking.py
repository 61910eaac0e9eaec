"""Chunking keeps every word, respects the size limit and overlaps long paragraphs."""

from __future__ import annotations

import pytest

from services.embeddings.chunking import chunk_text


def test_short_text_is_one_chunk() -> None:
    assert chunk_text("Data engineer.\nBuild pipelines.", 50) == ["Data engineer. Build pipelines."]


def test_paragraphs_are_packed_up_to_the_limit() -> None:
    text = "\n".join(" ".join(f"p{p}w{i}" for i in range(30)) for p in range(4))
    chunks = chunk_text(text, 70)
    assert [len(c.split()) for c in chunks] == [60, 60]


def test_long_paragraph_is_windowed_with_overlap_and_loses_nothing() -> None:
    words = [f"w{i}" for i in range(250)]
    chunks = chunk_text(" ".join(words), 100, overlap_words=20)
    assert all(len(c.split()) <= 100 for c in chunks)
    first, second = chunks[0].split(), chunks[1].split()
    assert first[-20:] == second[:20]
    seen = {w for c in chunks for w in c.split()}
    assert seen == set(words)


def test_empty_text_gives_no_chunks_and_bad_limit_is_rejected() -> None:
    assert chunk_text("\n\n  \n", 10) == []
    with pytest.raises(ValueError, match="max_words"):
        chunk_text("x", 0)

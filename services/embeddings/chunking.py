"""Split long documents into overlapping word windows that fit the encoder's token limit."""

from __future__ import annotations


def chunk_text(text: str, max_words: int, overlap_words: int = 0) -> list[str]:
    """Pack paragraphs into chunks of at most `max_words` words.

    Paragraph boundaries are kept where possible (they are topic boundaries in postings);
    a paragraph longer than `max_words` is cut into windows that overlap by `overlap_words`
    so a sentence cut at a boundary still appears whole in one chunk.
    """
    if max_words < 1:
        raise ValueError("max_words must be positive")
    overlap = min(max(overlap_words, 0), max_words // 2)
    chunks: list[str] = []
    current: list[str] = []
    for paragraph in (p.split() for p in text.split("\n")):
        if not paragraph:
            continue
        if len(current) + len(paragraph) <= max_words:
            current.extend(paragraph)
            continue
        if current:
            chunks.append(" ".join(current))
            current = []
        if len(paragraph) <= max_words:
            current = list(paragraph)
            continue
        step = max_words - overlap
        start = 0
        while start < len(paragraph):
            window = paragraph[start : start + max_words]
            if start + max_words >= len(paragraph):
                current = list(window)  # the tail may still absorb the next paragraph
                break
            chunks.append(" ".join(window))
            start += step
    if current:
        chunks.append(" ".join(current))
    return chunks

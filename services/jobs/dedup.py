"""Collapse near-duplicate postings: same company and title, near-identical description."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from services.jobs.documents import JobPosting

#: Two descriptions are near-identical when their word 3-gram sets overlap this much (Jaccard).
#: Job boards repost one ad per city with a changed city, date or reference number: even an
#: 80-word ad keeps 0.85-0.92 (a 500-word one, 0.97+), while two real roles of one company
#: under one title share the company blurb but not the duties, which keeps them under about
#: 0.5 even when the blurb is twice as long as the role text.
NEAR_DUPLICATE_JACCARD = 0.8
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Collapsed:
    """One posting dropped as a near-duplicate of an earlier one in the same file."""

    dropped: str  # where the dropped row was, e.g. "line 7"
    dropped_id: str
    kept: str
    kept_id: str


def collapse_near_duplicates(
    postings: Sequence[JobPosting], where: Sequence[str]
) -> tuple[list[JobPosting], list[Collapsed]]:
    """Keep the first of every group of near-duplicates (file order); list what was dropped."""
    groups: dict[tuple[str, str], list[tuple[int, frozenset[tuple[str, ...]]]]] = {}
    kept: list[JobPosting] = []
    collapsed: list[Collapsed] = []
    for index, posting in enumerate(postings):
        key = (_normal(posting.company), _normal(posting.title))
        shingles = _shingles(posting.description)
        group = groups.setdefault(key, [])
        twin = next(
            (i for i, other in group if _jaccard(shingles, other) >= NEAR_DUPLICATE_JACCARD), None
        )
        if twin is None:
            group.append((index, shingles))
            kept.append(posting)
        else:
            collapsed.append(
                Collapsed(where[index], posting.job_id, where[twin], postings[twin].job_id)
            )
    return kept, collapsed


def _normal(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    if len(words) < 3:
        return frozenset({tuple(words)})
    return frozenset(zip(words, words[1:], words[2:], strict=False))


def _jaccard(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)

"""Features of a resume-posting pair for the match classifier, from stored rows or free text."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import psycopg

from services.core.database import Database
from services.embeddings.encoder import Encoder
from services.jobs.documents import SENIORITY_LEVELS, seniority_from_title
from services.jobs.match import SkillVocabulary, SkillVocabularyCache, skill_overlap
from services.jobs.search import encode_document, stored_document

#: Columns of the classifier's input frame, in order.
FEATURE_NAMES: tuple[str, ...] = (
    "similarity",
    "skill_overlap",
    "title_similarity",
    "seniority_gap",
    "location_fit",
)

#: `method` of a /classify_match answer that came from the registered classifier.
MODEL_METHOD = "match_classifier"

#: Label definition: a pair matches when both sides share a role family and the resume's level
#: is at most this many steps from the posting's (a senior fits a lead or mid role, not an
#: intern one). Seniority is what the similarity rule cannot see; see match_training.
MAX_SENIORITY_GAP = 1

#: A plausible pair (same family, one level apart, same country): the smoke record a freshly
#: loaded match model must score before it is served.
EXAMPLE_FEATURES: dict[str, float] = {
    "similarity": 0.82,
    "skill_overlap": 0.4,
    "title_similarity": 0.5,
    "seniority_gap": 1.0,
    "location_fit": 0.5,
}

# Words that say nothing about the role in a title or headline.
_TITLE_STOPWORDS = frozenset(
    "a an and at for in of on the to with focused experience years year i ii iii "
    "moving into retraining as level".split()
)
_TOKEN = re.compile(r"[a-z0-9][a-z0-9+#.]*")
# posting_text() writes "<Level> level, <location>[ (remote)]." on its first line.
_POSTING_LINE = re.compile(
    r"\b(intern|junior|mid|senior|lead|principal) level, (.+?)( \(remote\))?\.$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class MatchDoc:
    """What the features need from one side of a pair; None where the text does not say."""

    vector: np.ndarray
    skills: list[str]
    title: str
    seniority: str | None = None
    location: str | None = None
    remote: bool = False


def title_tokens(title: str) -> frozenset[str]:
    """Lower-case word tokens of a title or headline, without filler words."""
    return frozenset(t for t in _TOKEN.findall(title.lower()) if t not in _TITLE_STOPWORDS)


def title_similarity(a: str, b: str) -> float:
    """Jaccard index of the two titles' tokens; 0 when either has none."""
    left, right = title_tokens(a), title_tokens(b)
    union = left | right
    return len(left & right) / len(union) if left and right else 0.0


def seniority_index(level: str | None) -> int | None:
    """Position of a level in SENIORITY_LEVELS (intern = 0), None when unknown."""
    if level is None:
        return None
    try:
        return SENIORITY_LEVELS.index(level.lower())
    except ValueError:
        return None


def seniority_gap(resume_level: str | None, posting_level: str | None) -> float:
    """Posting level minus resume level in steps (positive: the job is more senior); NaN if
    either is unknown."""
    r, p = seniority_index(resume_level), seniority_index(posting_level)
    return float("nan") if r is None or p is None else float(p - r)


def infer_seniority(text: str) -> str | None:
    """The level a title or first line names ("Sr. Data Engineer" -> senior), if any."""
    return seniority_from_title(text)


def _country(location: str) -> str:
    return location.rsplit(",", 1)[-1].strip().lower()


def location_fit(resume_location: str | None, posting_location: str | None, remote: bool) -> float:
    """1: same city, or remote in the candidate's country; 0.5: same country, on site elsewhere;
    0: another country; NaN when either location is unknown."""
    if not resume_location or not posting_location:
        return float("nan")
    if remote:
        return 1.0 if _country(resume_location) == _country(posting_location) else 0.0
    if resume_location.strip().lower() == posting_location.strip().lower():
        return 1.0
    return 0.5 if _country(resume_location) == _country(posting_location) else 0.0


def is_match(
    resume_family: str | None,
    posting_family: str | None,
    resume_level: str | None,
    posting_level: str | None,
) -> int:
    """The training label: same role family and levels at most MAX_SENIORITY_GAP apart."""
    if resume_family is None or resume_family != posting_family:
        return 0
    gap = seniority_gap(resume_level, posting_level)
    return int(not math.isnan(gap) and abs(gap) <= MAX_SENIORITY_GAP)


def pair_features(resume: MatchDoc, posting: MatchDoc) -> dict[str, float]:
    """The classifier's input for one pair (FEATURE_NAMES order)."""
    similarity = float(np.clip(resume.vector @ posting.vector, -1.0, 1.0))
    return {
        "similarity": similarity,
        "skill_overlap": skill_overlap(resume.skills, posting.skills),
        "title_similarity": title_similarity(resume.title, posting.title),
        "seniority_gap": seniority_gap(resume.seniority, posting.seniority),
        "location_fit": location_fit(resume.location, posting.location, posting.remote),
    }


def feature_frame(rows: Sequence[dict[str, float]]) -> pd.DataFrame:
    """The classifier's input: one row per pair, FEATURE_NAMES columns (NaN = unknown)."""
    return pd.DataFrame(list(rows), columns=list(FEATURE_NAMES), dtype=float)


def stored_resume(conn: psycopg.Connection, resume_id: str) -> MatchDoc:
    """A stored resume's embedding, skills, headline, level and location."""
    vector, (skills, headline, seniority, location) = stored_document(
        conn, "resume", resume_id, ["skills", "headline", "seniority", "location"]
    )
    return MatchDoc(vector, list(skills), headline, seniority, location)


def stored_posting(conn: psycopg.Connection, job_id: str) -> MatchDoc:
    """A stored posting's embedding, skills, title, level, location and remote flag."""
    vector, (skills, title, seniority, location, remote) = stored_document(
        conn, "posting", job_id, ["skills", "title", "seniority", "location", "remote"]
    )
    return MatchDoc(vector, list(skills), title, seniority, location, bool(remote))


def text_document(
    text: str, vector: np.ndarray, skills: Sequence[str], *, posting: bool
) -> MatchDoc:
    """A pasted resume or posting: the title is its first line; level and location are read
    from posting_text()'s "<Level> level, <place>" line when present, else the level from the
    title's wording; a resume's location is unknown."""
    first_line = text.strip().splitlines()[0][:300] if text.strip() else ""
    title = first_line.split(" at ", 1)[0] if posting else first_line
    seniority, location, remote = infer_seniority(title), None, False
    if posting and (line := _POSTING_LINE.search(text[:2000])):
        seniority, location, remote = line.group(1).lower(), line.group(2), bool(line.group(3))
    return MatchDoc(vector, list(skills), title, seniority, location, remote)


# The stored text a document's skills are read from when it has none (a file without skills).
_SKILL_TEXT = {
    "resume": "SELECT headline || E'\\n' || summary FROM resumes WHERE resume_id = %s",
    "posting": "SELECT title || E'\\n' || description FROM job_postings WHERE job_id = %s",
}


def _skills_from_text(
    conn: psycopg.Connection, doc: MatchDoc, kind: str, doc_id: str, vocab: SkillVocabulary
) -> MatchDoc:
    row = conn.execute(_SKILL_TEXT[kind], (doc_id,)).fetchone()
    return replace(doc, skills=vocab.extract(row[0]) if row else [])


def match_documents(
    db: Database,
    encoder: Encoder,
    vocabulary: SkillVocabularyCache,
    *,
    resume_id: str | None = None,
    resume_text: str | None = None,
    job_id: str | None = None,
    job_text: str | None = None,
    chunk_words: int = 120,
    overlap_words: int = 20,
) -> tuple[MatchDoc, MatchDoc]:
    """Both sides of a pair given by stored ids or free text (one of each), ready for
    pair_features: stored rows use their stored vectors; text is embedded like a stored
    document and its skills are the vocabulary words it mentions, as are a stored document's
    when it was loaded without any."""
    if (resume_id is None) == (resume_text is None) or (job_id is None) == (job_text is None):
        raise ValueError("give exactly one of resume_id/resume_text and one of job_id/job_text")
    resume = posting = None
    # Read before a connection is held: a cache miss takes a connection of its own.
    vocab = vocabulary.get(db)
    if resume_id is not None or job_id is not None:
        with db.connection() as conn:
            if resume_id is not None:
                resume = stored_resume(conn, resume_id)
                if not resume.skills:
                    resume = _skills_from_text(conn, resume, "resume", resume_id, vocab)
            if job_id is not None:
                posting = stored_posting(conn, job_id)
                if not posting.skills:
                    posting = _skills_from_text(conn, posting, "posting", job_id, vocab)

    def from_text(text: str, *, is_posting: bool) -> MatchDoc:
        vector = encode_document(encoder, text, chunk_words, overlap_words)
        skills = vocab.extract(text)
        return text_document(text, vector, skills, posting=is_posting)

    resume = resume or from_text(resume_text or "", is_posting=False)
    posting = posting or from_text(job_text or "", is_posting=True)
    return resume, posting

"""The skill lexicon Beacon knows without any stored postings: the sample corpus's skills."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from services.jobs.vocabulary import FAMILIES

# Skills that are also ordinary English words ("go", "rest", "ray", "epic") or soft skills every
# family mentions: found in free text they would add overlap between unrelated documents, which
# is exactly what the match rule must not see. They still count when a file lists them as skills.
AMBIGUOUS = frozenset(
    {
        "go",
        "r",
        "rest",
        "ray",
        "epic",
        "communication",
        "negotiation",
        "prioritization",
        "troubleshooting",
        "networking",
        "onboarding",
        "agile",
    }
)


@cache
def skill_lexicon() -> tuple[str, ...]:
    """Every skill of every role family of the sample corpus, minus the ambiguous ones."""
    skills = {s for f in FAMILIES for s in (*f.core_skills, *f.optional_skills)}
    return tuple(sorted(skills - AMBIGUOUS))


class SkillVocabulary:
    """The skills postings ask for; finds them in free text."""

    def __init__(self, skills: Iterable[str]) -> None:
        self.skills = sorted({s.strip().lower() for s in skills if s.strip()})
        # Skills contain punctuation ("c++", "node.js", "a/b testing"), so word boundaries
        # are spelled out: no letter, digit or skill punctuation may touch the match.
        self._patterns = [
            (skill, re.compile(rf"(?<![\w+#/.-]){re.escape(skill)}(?![\w+#/-]|\.\w)"))
            for skill in self.skills
        ]

    def __len__(self) -> int:
        return len(self.skills)

    def extract(self, text: str) -> list[str]:
        """Vocabulary skills mentioned in `text`, in vocabulary order."""
        lowered = " ".join(text.lower().split())
        # A plain substring test first: most skills are absent from any one text, and it is
        # far cheaper than the boundary-checking pattern (a 3,000-word posting in ~1 ms).
        return [
            skill
            for skill, pattern in self._patterns
            if skill in lowered and pattern.search(lowered)
        ]


@cache
def lexicon_vocabulary() -> SkillVocabulary:
    """The lexicon as a vocabulary, compiled once: loaders extract skills with it."""
    return SkillVocabulary(skill_lexicon())

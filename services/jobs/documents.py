"""Typed job postings and resumes, and the canonical text and content hash that get embedded."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Seniority = Literal["intern", "junior", "mid", "senior", "lead", "principal"]
SENIORITY_LEVELS: tuple[str, ...] = ("intern", "junior", "mid", "senior", "lead", "principal")

# The level markers the generator (and most real titles) use, most specific first: the first
# pattern that matches decides, so "Senior Staff Engineer" is principal. "Manager" and
# "Associate" are left out on purpose, and "Staff" counts only before an engineering title:
# "Product Manager", "Associate Attorney" and "Staff Accountant" name roles, not levels.
_LEVEL_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (level, re.compile(pattern, re.IGNORECASE))
    for level, pattern in (
        (
            "principal",
            r"\b(principal|distinguished|vp|vice president|chief"
            r"|staff (?:\w+ )?(?:engineer|scientist|developer|architect|designer))\b",
        ),
        ("lead", r"\b(lead|head of|team lead|director)\b"),
        ("senior", r"\b(senior|sr\.?)(?=\W|$)"),
        ("intern", r"\b(intern|internship|student|graduate)\b"),
        ("junior", r"\b(junior|jr\.?|entry[- ]level|trainee|apprentice)(?=\W|$)"),
        ("mid", r"\b(mid[- ]level|ii)\b"),
    )
)


def seniority_from_title(title: str) -> str | None:
    """The level a title names ("Sr. Data Engineer" -> senior), None when it names none."""
    for level, pattern in _LEVEL_MARKERS:
        if pattern.search(title):
            return level
    return None


def _clean_skills(value: object) -> list[str]:
    """Accept a list or a `;`/`,`/`|`-separated string; lower-case, trimmed, de-duplicated."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list | tuple) else str(value).replace("|", ";")
    if isinstance(items, str):
        items = items.replace(",", ";").split(";")
    seen: dict[str, None] = {}
    for item in items:
        skill = str(item).strip().lower()
        if skill:
            seen.setdefault(skill, None)
    return list(seen)


class JobPosting(BaseModel):
    """One job posting as stored in `job_postings`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    job_id: str = Field(min_length=1, max_length=128)
    title: str = Field(min_length=1, max_length=300)
    company: str = Field(min_length=1, max_length=300)
    location: str = Field(min_length=1, max_length=200)
    remote: bool = False
    seniority: Seniority
    role_family: str | None = None
    skills: list[str] = Field(default_factory=list)
    salary_min: int | None = Field(None, ge=0)
    salary_max: int | None = Field(None, ge=0)
    description: str = Field(min_length=1)
    posted_at: date | None = None

    @field_validator("skills", mode="before")
    @classmethod
    def _normalise_skills(cls, value: object) -> list[str]:
        return _clean_skills(value)

    @model_validator(mode="after")
    def _salary_order(self) -> JobPosting:
        if (
            self.salary_min is not None
            and self.salary_max is not None
            and self.salary_min > self.salary_max
        ):
            raise ValueError("salary_min must not exceed salary_max")
        return self


class Resume(BaseModel):
    """One resume as stored in `resumes`; role_family is the true label when known."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    resume_id: str = Field(min_length=1, max_length=128)
    name: str | None = None
    headline: str = Field(min_length=1, max_length=300)
    summary: str = Field(min_length=1)
    skills: list[str] = Field(default_factory=list)
    years_experience: int | None = Field(None, ge=0, le=70)
    location: str | None = None
    seniority: Seniority | None = None
    role_family: str | None = None

    @field_validator("skills", mode="before")
    @classmethod
    def _normalise_skills(cls, value: object) -> list[str]:
        return _clean_skills(value)


def posting_text(posting: JobPosting) -> str:
    """The text embedded for a posting: what a reader would use to judge fit."""
    where = f"{posting.location} (remote)" if posting.remote else posting.location
    skills = ", ".join(posting.skills)
    return (
        f"{posting.title} at {posting.company}. {posting.seniority.capitalize()} level, {where}.\n"
        f"Skills: {skills}.\n{posting.description}"
    )


def resume_text(resume: Resume) -> str:
    """The text embedded for a resume (the name is left out: it says nothing about fit)."""
    skills = ", ".join(resume.skills)
    return f"{resume.headline}.\nSkills: {skills}.\n{resume.summary}"


def content_hash(text: str) -> str:
    """Stable hash of a document's embedded text; equal text means no re-embedding."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

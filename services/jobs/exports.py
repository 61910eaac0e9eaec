"""Column mappings for common job-board and resume exports: their rows as Beacon fields."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from services.jobs.documents import SENIORITY_LEVELS, seniority_from_title
from services.jobs.salary import SalaryError, is_unknown, parse_salary
from services.jobs.skills import lexicon_vocabulary

Kind = Literal["postings", "resumes"]
#: Level used when neither a level column nor the title names one: a title without a marker
#: ("Data Scientist") is, on job boards, the plain individual-contributor role.
DEFAULT_SENIORITY = "mid"
_HEADLINE_WORDS = 12

# LinkedIn's "formatted_experience_level" and similar columns; None = ask the title.
_EXPERIENCE_LEVELS: dict[str, str | None] = {
    "internship": "intern",
    "intern": "intern",
    "entry level": "junior",
    "entry": "junior",
    "associate": "junior",
    "mid-senior level": None,
    "mid level": "mid",
    "director": "lead",
    "executive": "principal",
    **{level: level for level in SENIORITY_LEVELS},
}
_TRUE = frozenset({"true", "yes", "1", "1.0", "y"})
_RATING_SUFFIX = re.compile(r"\s*\n\s*\d(?:\.\d+)?\s*$")
_REMOTE = re.compile(r"\bremote\b", re.IGNORECASE)


def header_key(name: str) -> str:
    """A header as the mappings name it: "Job Title " -> "job_title"."""
    return re.sub(r"[\s_\-:]+", "_", name.strip().lower()).strip("_")


# Out of a row: Beacon field values, and (field, message) problems.
Converted = tuple[dict[str, Any], list[tuple[str, str]]]


@dataclass(frozen=True)
class Layout:
    """One export layout: how to recognise its header and turn a row into Beacon fields."""

    name: str
    kind: Kind
    summary: str
    #: Beacon field -> header keys that may hold it, first present wins.
    aliases: Mapping[str, tuple[str, ...]]
    #: Header keys that must all be present for auto-detection to pick this layout (besides
    #: an alias of every required field).
    signature: frozenset[str]
    convert_row: Callable[[Layout, Mapping[str, str]], Converted]
    id_prefix: str
    required: tuple[str, ...] = field(default=())

    def matches(self, keys: set[str]) -> bool:
        """True when a header holds this layout's signature columns."""
        return self.signature <= keys

    def column(self, name: str, keys: set[str]) -> str | None:
        """The header key that holds Beacon field `name` in a file with header `keys`."""
        return next((k for k in self.aliases.get(name, ()) if k in keys), None)

    def missing(self, keys: set[str]) -> list[str]:
        """Required Beacon fields none of whose aliases is in the header."""
        return [f for f in self.required if self.column(f, keys) is None]

    def convert(self, row: Mapping[str, str]) -> Converted:
        """Beacon field values for one row, and (field, message) problems."""
        return self.convert_row(self, row)


def _given(row: Mapping[str, str], layout: Layout, name: str) -> str | None:
    keys = set(row)
    column = layout.column(name, keys)
    value = row.get(column) if column else None
    return None if is_unknown(value) else value.strip()  # type: ignore[union-attr]


def derived_id(prefix: str, *parts: str) -> str:
    """A stable id from a row's content, for exports that carry none: reloading the same export
    (even re-sorted) gives the same ids, so loads stay idempotent."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:16]}"


def _posting_row(layout: Layout, row: Mapping[str, str]) -> Converted:
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    title = _given(row, layout, "title")
    company = _given(row, layout, "company")
    if company:
        company = _RATING_SUFFIX.sub("", company)  # Glassdoor: "Acme Corp\n3.8"
    location = _given(row, layout, "location")
    description = _given(row, layout, "description")
    for name, value in (
        ("title", title),
        ("company", company),
        ("location", location),
        ("description", description),
    ):
        if value is not None:
            values[name] = value
    values["job_id"] = _given(row, layout, "job_id") or derived_id(
        layout.id_prefix, company or "", title or "", location or "", description or ""
    )
    values["remote"] = _remote(row, layout, location)
    values["seniority"] = _seniority(row, layout, title)
    _salary(row, layout, values, problems)
    posted = _given(row, layout, "posted_at")
    if posted is not None:
        try:
            values["posted_at"] = _date(posted)
        except (ValueError, OverflowError, OSError):  # OverflowError/OSError: absurd timestamps
            problems.append(("posted_at", "expected a date (YYYY-MM-DD) or a Unix timestamp"))
    listed = _given(row, layout, "skills")
    skill_text = _given(row, layout, "skills_text") or ""
    found = lexicon_vocabulary().extract(" ".join([title or "", skill_text, description or ""]))
    values["skills"] = [*(re.split(r"[;,|]", listed) if listed else []), *found]
    return values, problems


def _remote(row: Mapping[str, str], layout: Layout, location: str | None) -> bool:
    flag = _given(row, layout, "remote")
    if flag is not None and flag.lower() in _TRUE:
        return True
    work_type = _given(row, layout, "work_type") or ""
    return bool(_REMOTE.search(work_type) or (location and _REMOTE.search(location)))


def _seniority(row: Mapping[str, str], layout: Layout, title: str | None) -> str:
    """The rule: a level column that names one level, else the title's marker, else mid."""
    level = _given(row, layout, "seniority")
    if level is not None and (mapped := _EXPERIENCE_LEVELS.get(level.lower())):
        return mapped
    return seniority_from_title(title or "") or DEFAULT_SENIORITY


def _salary(
    row: Mapping[str, str], layout: Layout, values: dict[str, Any], problems: list[tuple[str, str]]
) -> None:
    period = _given(row, layout, "pay_period")
    period = _PAY_PERIODS.get(period.lower(), period) if period else None
    parts = {}
    for name in ("salary_min", "salary_max", "salary_median", "salary"):
        cell = _given(row, layout, name)
        if cell is None:
            continue
        try:
            parts[name] = parse_salary(cell, period=period)
        except SalaryError as exc:
            problems.append((name, str(exc)))
    if "salary_min" in parts or "salary_max" in parts:
        low, high = parts.get("salary_min"), parts.get("salary_max")
        values["salary_min"] = low.minimum if low else None
        values["salary_max"] = high.maximum if high else None
    elif (stated := parts.get("salary") or parts.get("salary_median")) is not None:
        values["salary_min"], values["salary_max"] = stated.minimum, stated.maximum


_PAY_PERIODS = {
    "hourly": "hour",
    "daily": "day",
    "weekly": "week",
    "biweekly": "week",  # rare; counted as weekly rather than guessed
    "monthly": "month",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
}


def _date(text: str) -> date:
    """YYYY-MM-DD (a time after it is ignored) or a Unix timestamp in seconds or milliseconds."""
    try:
        stamp = float(text)
    except ValueError:
        return date.fromisoformat(text[:10])
    if stamp > 1e11:  # LinkedIn writes milliseconds
        stamp /= 1000
    return datetime.fromtimestamp(stamp, tz=UTC).date()


def _resume_row(layout: Layout, row: Mapping[str, str]) -> Converted:
    values: dict[str, Any] = {}
    text = _given(row, layout, "summary")
    if text is not None:
        values["summary"] = text
        values["headline"] = headline_of(text)
        values["skills"] = lexicon_vocabulary().extract(text)
    category = _given(row, layout, "role_family")
    if category is not None:
        values["role_family"] = family_key(category)
        years = years_stated(text)
        level = seniority_from_title(values["headline"]) or level_for_years(years)
        values.update(years_experience=years, seniority=level)
    values["resume_id"] = _given(row, layout, "resume_id") or derived_id(
        layout.id_prefix, text or ""
    )
    return values, []


_NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
        " fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_YEARS_STATED = re.compile(
    r"\b(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")\+?\s+(?:years?|yrs?)\b", re.IGNORECASE
)
#: Opening lines only: that is where a resume states the whole career ("Nurse with seven
#: years in ICU"); later counts belong to single jobs.
_YEARS_WINDOW = 400
#: Upper bounds of years per level, from the sample corpus's levels (junior 0-2, mid 2-5,
#: senior 5-9, lead 8-14 years): a resume stating 5 years is senior, 9-12 lead, 13+ principal.
_LEVEL_BY_YEARS = ((2, "junior"), (5, "mid"), (9, "senior"), (13, "lead"))


def years_stated(text: str) -> int | None:
    """The years of experience a resume's opening states ("five years", "7+ yrs"), if any."""
    match = _YEARS_STATED.search(text[:_YEARS_WINDOW])
    if match is None:
        return None
    word = match.group(1).lower()
    years = _NUMBER_WORDS[word] if word in _NUMBER_WORDS else int(word)
    return years if years <= 70 else None


def level_for_years(years: int | None) -> str | None:
    """The level the sample corpus gives that many years; None when unknown."""
    if years is None:
        return None
    return next((level for bound, level in _LEVEL_BY_YEARS if years < bound), "principal")


def headline_of(text: str) -> str:
    """A resume's first words stand in for the headline exports do not have."""
    first = next((line for line in text.splitlines() if line.strip()), text)
    words = first.split()
    return " ".join(words[:_HEADLINE_WORDS]) or "Resume"


def family_key(category: str) -> str:
    """ "Data Science" -> "data_science": categories become role-family keys."""
    return re.sub(r"[^a-z0-9]+", "_", category.lower()).strip("_") or "unknown"


_JOB_BOARD_ALIASES: dict[str, tuple[str, ...]] = {
    "job_id": ("job_id", "id", "job_posting_id", "posting_id", "jobkey", "job_key"),
    "title": ("title", "job_title", "position", "job_name"),
    "company": ("company", "company_name", "employer", "employer_name"),
    "location": ("location", "job_location", "city"),
    "description": ("description", "job_description", "job_summary"),
    "salary": ("salary", "salary_range", "salary_estimate", "pay", "compensation"),
    "salary_min": ("salary_min", "min_salary", "minimum_salary", "min_amount"),
    "salary_max": ("salary_max", "max_salary", "maximum_salary", "max_amount"),
    "salary_median": ("med_salary", "median_salary"),
    "pay_period": ("pay_period", "salary_period", "interval"),
    "remote": ("remote", "remote_allowed", "is_remote"),
    "work_type": ("work_type", "formatted_work_type", "job_type", "workplace_type"),
    "seniority": ("seniority", "formatted_experience_level", "experience_level", "job_level"),
    "posted_at": ("posted_at", "date_posted", "listed_time", "posted_date", "date"),
    "skills": ("skills",),
    "skills_text": ("skills_desc", "skills_description", "requirements"),
}
_POSTING_REQUIRED = ("title", "company", "location", "description")

GLASSDOOR = Layout(
    name="glassdoor",
    kind="postings",
    summary="Glassdoor-style job-board CSV (Job Title, Salary Estimate, Company Name, ...)",
    aliases={
        **_JOB_BOARD_ALIASES,
        "title": ("job_title",),
        "company": ("company_name",),
        "description": ("job_description",),
        "salary": ("salary_estimate",),
    },
    signature=frozenset({"job_title", "company_name", "job_description", "salary_estimate"}),
    convert_row=_posting_row,
    id_prefix="gd",
    required=_POSTING_REQUIRED,
)
JOB_BOARD = Layout(
    name="job-board",
    kind="postings",
    summary="LinkedIn/Indeed-style postings (title, company or company_name, description, ...)",
    aliases=_JOB_BOARD_ALIASES,
    signature=frozenset(),  # recognised by its required fields, under any alias
    convert_row=_posting_row,
    id_prefix="jb",
    required=_POSTING_REQUIRED,
)
RESUME_CATEGORY = Layout(
    name="resume-category",
    kind="resumes",
    summary="Resume dataset CSV: Category and Resume (or ID, Resume_str, Resume_html, Category)",
    aliases={
        "resume_id": ("id", "resume_id"),
        "summary": ("resume", "resume_str", "resume_text", "text"),
        "role_family": ("category",),
    },
    signature=frozenset({"category"}),
    convert_row=_resume_row,
    id_prefix="cv",
    required=("summary",),
)
#: Auto-detection tries these in order (after Beacon's own layout).
LAYOUTS: tuple[Layout, ...] = (GLASSDOOR, JOB_BOARD, RESUME_CATEGORY)
LAYOUT_NAMES: tuple[str, ...] = ("beacon", *(layout.name for layout in LAYOUTS))


def layout_named(name: str, kind: Kind) -> Layout:
    """The export layout called `name` for `kind`; ValueError when there is none."""
    for layout in LAYOUTS:
        if layout.name == name and layout.kind == kind:
            return layout
    names = [layout.name for layout in LAYOUTS if layout.kind == kind]
    raise ValueError(f"no {kind} layout {name!r} (use auto, beacon or {', '.join(names)})")


def detect_layout(kind: Kind, keys: set[str]) -> Layout | None:
    """The first export layout of `kind` whose signature the header holds, None for Beacon's."""
    for layout in LAYOUTS:
        if layout.kind == kind and layout.matches(keys) and not layout.missing(keys):
            return layout
    return None

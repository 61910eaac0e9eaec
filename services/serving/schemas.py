"""Request and response models of the jobs API (validation errors name the offending field)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.jobs.documents import Seniority
from services.jobs.search import SearchFilters
from services.serving.text_fields import Identifier, OneLine, Text, WholeNumber, whole_number

#: Pasted resumes and postings are a few hundred words; this bounds abuse, not real use.
MAX_DOCUMENT_CHARS = 20_000


class _Request(BaseModel):
    # Unknown fields are errors: a misspelt "topk" must not silently fall back to the default.
    # Values are used as sent (no whitespace stripping), so the schema's lengths are exact.
    # Numbers and flags are strict (WholeNumber, strict=True): "5" for top_k is a 422.
    model_config = ConfigDict(extra="forbid")


def _one_of(*names: str) -> dict[str, Any]:
    """JSON schema of "exactly one of these fields" (the model validator enforces it)."""
    return {"oneOf": [{"required": [name]} for name in names]}


def _also_one_level(schema: dict[str, Any]) -> None:
    # The validator below accepts a bare level too; the schema must say so, or fuzzers (and
    # clients' generators) would treat "senior" as invalid input.
    for option in schema.get("anyOf", []):
        if option.get("type") == "array":
            schema["anyOf"].insert(0, option["items"])
            return


class Filters(_Request):
    """Posting filters; see `services.jobs.search.SearchFilters` for the exact semantics."""

    location: OneLine | None = Field(
        None,
        min_length=1,
        max_length=200,
        description='Case-insensitive part of the posting location ("berlin", "France"). '
        "Remote postings name the country they hire in and match locations inside it.",
    )
    remote: bool | None = Field(
        None, strict=True, description="true: remote only; false: on-site only."
    )
    seniority: list[Seniority] | None = Field(
        None,
        description="One level or a list of levels.",
        min_length=1,
        json_schema_extra=_also_one_level,
    )
    min_salary: whole_number(ge=0) | None = Field(  # type: ignore[valid-type]
        None, description="Keep postings whose salary_max is at least this."
    )

    @field_validator("seniority", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    def to_search(self) -> SearchFilters:
        """The retrieval layer's filter object."""
        return SearchFilters(
            location=self.location,
            remote=self.remote,
            seniority=tuple(self.seniority or ()),
            min_salary=self.min_salary,
        )


def _exactly_one(model: BaseModel, *names: str) -> None:
    given = [n for n in names if getattr(model, n) is not None]
    if len(given) != 1:
        raise ValueError(f"provide exactly one of {' or '.join(names)}")


class RecommendRequest(_Request):
    """Recommend postings for a stored resume (by id) or for pasted resume text."""

    # Exactly one of the two; typed without null so the schema's oneOf is exact.
    model_config = ConfigDict(json_schema_extra=_one_of("resume_id", "text"))

    resume_id: Identifier = Field(None, description="A stored resume (or give text).")  # type: ignore[assignment]
    text: Text = Field(  # type: ignore[assignment]
        None, min_length=3, max_length=MAX_DOCUMENT_CHARS, description="Pasted resume text."
    )
    top_k: WholeNumber = Field(10, ge=1, description="Results to return (at most max_top_k).")
    filters: Filters | None = None

    @model_validator(mode="after")
    def _one_source(self) -> RecommendRequest:
        _exactly_one(self, "resume_id", "text")
        return self


class JobResult(BaseModel):
    """A recommended posting; score is cosine similarity to the resume (1 = identical)."""

    job_id: str
    title: str
    company: str
    location: str
    remote: bool
    seniority: str
    salary_min: int | None
    salary_max: int | None
    score: float


class RecommendQuery(BaseModel):
    """The request as understood; pasted text is summarised by length, never echoed."""

    resume_id: str | None
    text_chars: int | None
    top_k: int
    filters: dict[str, Any]


class RecommendResponse(BaseModel):
    """Postings best first, and the encoder that produced the vectors compared."""

    query: RecommendQuery
    results: list[JobResult]
    model: str


class QARequest(_Request):
    """A question about the job postings."""

    question: Text = Field(min_length=3, max_length=1000)
    top_k: WholeNumber = Field(5, ge=1, description="Passages to answer from (at most max_top_k).")
    filters: Filters | None = None


class CitationOut(BaseModel):
    """A passage the answer cites; score is its fused (reciprocal rank) retrieval score."""

    job_id: str
    title: str
    company: str
    chunk_no: int
    snippet: str
    score: float


class QAResponse(BaseModel):
    """Answer text citing job ids inline as [job-000123]; every cited id is in citations."""

    answer: str
    citations: list[CitationOut]
    retrieval: dict[str, Any]


class MatchRequest(_Request):
    """A resume (stored id or text) and a posting (stored id or text) to compare."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [_one_of("resume_id", "resume_text"), _one_of("job_id", "job_text")]
        }
    )

    resume_id: Identifier = None  # type: ignore[assignment]
    resume_text: Text = Field(None, min_length=3, max_length=MAX_DOCUMENT_CHARS)  # type: ignore[assignment]
    job_id: Identifier = None  # type: ignore[assignment]
    job_text: Text = Field(None, min_length=3, max_length=MAX_DOCUMENT_CHARS)  # type: ignore[assignment]

    @model_validator(mode="after")
    def _one_of_each(self) -> MatchRequest:
        _exactly_one(self, "resume_id", "resume_text")
        _exactly_one(self, "job_id", "job_text")
        return self


class MatchFeatures(BaseModel):
    """What the decision looked at: cosine similarity and Jaccard overlap of skill sets (both
    methods); the classifier also title-token overlap, the seniority gap in levels (posting
    minus resume) and location fit (1 same city or remote in the country, 0.5 same country,
    0 elsewhere). A feature the text does not reveal is left out."""

    similarity: float
    skill_overlap: float
    title_similarity: float | None = None
    seniority_gap: float | None = None
    location_fit: float | None = None


class MatchModelRef(BaseModel):
    """The registered classifier version that decided."""

    name: str
    version: str
    alias: str


class MatchResponse(BaseModel):
    """Match decision with a calibrated probability.

    method `match_classifier`: P(same role family and seniority within one level), from the
    registered model named in `model`. method `similarity_skill_rule_v1` (the fallback while no
    model has the alias): P(same role family); `model` is absent.
    """

    label: Literal["match", "no_match"]
    probability: float
    method: str
    features: MatchFeatures
    model: MatchModelRef | None = None

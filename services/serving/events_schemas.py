"""Request and response models of the events API (validation errors name the field)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.recommender.algorithms import ALGORITHMS
from services.serving.text_fields import ONE_LINE_PATTERN, OPTIONAL_TEXT_PATTERN, WholeNumber

Algorithm = Literal["popularity", "item_knn", "als", "content", "hybrid"]
assert set(ALGORITHMS) == set(Algorithm.__args__)  # the schema must list every algorithm
# No control characters: PostgreSQL text cannot hold NUL, and ids are never multi-line.
ID = {"min_length": 1, "max_length": 128, "pattern": ONE_LINE_PATTERN}
SLUG = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _Request(BaseModel):
    # Unknown fields are errors: a misspelt "topk" must not silently fall back to the default.
    # Values are used as sent (no whitespace stripping), so the schema's lengths are exact.
    # Numbers are strict (strict=True): "5" for top_k is a client bug, not a silent cast.
    model_config = ConfigDict(extra="forbid")


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("must include a time zone (e.g. 2026-05-01T00:00:00Z)")
    return value


def _later_than(value: datetime | None, info: ValidationInfo, start: str) -> datetime | None:
    """The value (it must carry a time zone) must come after the field `start` when both are set."""
    value = _aware(value)
    begin = info.data.get(start)
    if value is not None and begin is not None and value <= begin:
        raise ValueError(f"must be later than {start}")
    return value


class RecommendationRequest(_Request):
    """Who, how many, and which upcoming events qualify."""

    user_id: str = Field(..., **ID, description="The user to recommend for (unknown: cold start).")
    top_k: WholeNumber = Field(10, ge=1, le=100, description="Length of the list.")
    city: str | None = Field(
        None, min_length=1, max_length=100, pattern=ID["pattern"], description="Only this city."
    )
    date_from: datetime | None = Field(
        None, description="Events starting at or after this (default: now; past ones never)."
    )
    date_to: datetime | None = Field(None, description="Events starting before this.")
    experiment_id: str | None = Field(
        None, pattern=SLUG, description="Experiment to assign the user in (default: running one)."
    )

    @field_validator("date_from")
    @classmethod
    def _from_aware(cls, value: datetime | None) -> datetime | None:
        return _aware(value)

    @field_validator("date_to")
    @classmethod
    def _to_after_from(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return _later_than(value, info, "date_from")


class RecommendedEvent(BaseModel):
    """One recommended event."""

    event_id: str
    score: float
    title: str | None = None
    city: str | None = None
    venue: str | None = None
    genre: str | None = None
    starts_at: str | None = None


class RecommendationResponse(BaseModel):
    """A served list; send feedback with its recommendation_id."""

    recommendation_id: str
    user_id: str
    experiment_id: str | None
    variant: str | None
    algorithm: str
    model: dict[str, str]
    cold_start: bool
    cached: bool
    items: list[RecommendedEvent]


class FeedbackRequest(_Request):
    """What the user did with an event of a served list."""

    recommendation_id: UUID
    event_id: str = Field(..., **ID)
    action: Literal["view", "save", "purchase", "dismiss"]


class VariantIn(_Request):
    """One arm of an experiment."""

    name: str = Field(..., pattern=SLUG)
    algorithm: Algorithm
    weight: float = Field(..., gt=0, le=1000, strict=True, description="Relative share of traffic.")


class ExperimentCreate(_Request):
    """A new experiment; the first variant is the control."""

    experiment_id: str = Field(..., pattern=SLUG)
    name: str = Field(..., min_length=1, max_length=200, pattern=ID["pattern"])
    description: str = Field("", max_length=2000, pattern=OPTIONAL_TEXT_PATTERN)
    variants: list[VariantIn] = Field(..., min_length=2, max_length=10)
    goal: Literal["view", "save", "purchase"] = Field(
        "purchase", description="Conversion: this action or a deeper one (view < save < purchase)."
    )
    status: Literal["draft", "running", "stopped"] = "running"
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @field_validator("variants")
    @classmethod
    def _unique_names(cls, value: list[VariantIn]) -> list[VariantIn]:
        names = [v.name for v in value]
        if len(set(names)) != len(names):
            raise ValueError("variant names must be unique")
        return value

    @field_validator("starts_at")
    @classmethod
    def _starts_aware(cls, value: datetime | None) -> datetime | None:
        return _aware(value)

    @field_validator("ends_at")
    @classmethod
    def _ends_after(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        value = _later_than(value, info, "starts_at")
        if value is not None and value <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return value


class FeedbackResponse(BaseModel):
    """The stored feedback; `duplicate` when the same (list, event, action) was already sent."""

    duplicate: bool
    feedback_id: int
    recommendation_id: str
    user_id: str
    event_id: str
    action: str
    experiment_id: str | None
    variant: str | None


class VariantOut(BaseModel):
    """One arm of an experiment."""

    name: str
    algorithm: str
    weight: float


class ExperimentOut(BaseModel):
    """An experiment; the first variant is the control."""

    experiment_id: str
    name: str
    description: str
    variants: list[VariantOut]
    goal: str
    status: Literal["draft", "running", "stopped"]
    starts_at: str | None
    ends_at: str | None


class ExperimentList(BaseModel):
    """Every experiment, newest first."""

    experiments: list[ExperimentOut]


class VariantResult(BaseModel):
    """Exposures and conversions (users) of one variant; lift vs control for the others."""

    model_config = ConfigDict(extra="allow")

    name: str
    algorithm: str
    weight: float
    exposures: int
    conversions: int
    conversion_rate: float | None
    is_control: bool


class SampleRatio(BaseModel):
    """Chi-square check of the assignment against the weights."""

    chi2: float | None
    p_value: float | None
    mismatch: bool


class ExperimentResults(BaseModel):
    """Per-variant results with lift, 95 % CI and p-value against the control."""

    experiment: ExperimentOut
    goal: str
    variants: list[VariantResult]
    sample_ratio: SampleRatio


class RetrainStatus(BaseModel):
    """A retraining job: running, succeeded (version, promoted, metrics) or failed."""

    job_id: str
    status: Literal["running", "succeeded", "failed"]
    message: str
    version: str | None
    promoted: bool | None
    metrics: dict[str, Any] | None
    started_at: str | None
    finished_at: str | None


class RetrainStarted(BaseModel):
    """A retraining job was started; poll GET /v1/model/retrain/{job_id}."""

    job_id: str
    status: str

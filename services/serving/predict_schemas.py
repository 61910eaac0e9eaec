"""Request and response models of /predict/readmission and /v1/model/info (from the schema)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from services.serving.text_fields import ONE_LINE_PATTERN, whole_number
from services.training.readmission_schema import (
    COLUMN_SPECS,
    EXAMPLE_RECORD,
    FEATURE_COLUMNS,
    MISSING,
)

#: Largest batch one request may carry.
MAX_RECORDS = 1000
#: Largest accepted integer (the frame stores 64-bit integers; real values are small).
MAX_INT = 2**31 - 1
#: Longest accepted category text; real codes are a few characters.
MAX_CATEGORY_CHARS = 100


def _record_field(name: str) -> tuple[Any, Any]:
    spec = COLUMN_SPECS[name]
    if spec.dtype is int:
        # Strict: "5" for a count is a client bug worth a 422, not a silent cast (5.0 is an
        # integer in JSON Schema, so it is accepted). Only
        # the lower bound is enforced: codes outside the training range are unknown categories
        # (the pipeline handles those), and large counts are rare, not wrong.
        kind = whole_number(ge=spec.minimum, le=MAX_INT, description=spec.description)
        return kind, ...
    kind = Annotated[
        str | None,
        Field(
            strict=True,
            max_length=MAX_CATEGORY_CHARS,
            # A NUL here once dropped whole prediction-log batches (other clients' rows too).
            pattern=ONE_LINE_PATTERN,
            description=spec.description,
        ),
    ]
    # `?` (or null) means missing, as in the original file; columns that are often missing may
    # be left out. Any other text is accepted: unknown categories are the pipeline's job.
    return kind, (MISSING if spec.missing_allowed else ...)


ReadmissionRecord = create_model(  # type: ignore[call-overload]
    "ReadmissionRecord",
    __config__=ConfigDict(extra="forbid", json_schema_extra={"example": EXAMPLE_RECORD}),
    __doc__="One encounter's raw feature columns, as in diabetic_data.csv (`?` = missing).",
    **{name: _record_field(name) for name in FEATURE_COLUMNS},
)


class PredictRequest(BaseModel):
    """One record or a batch of up to MAX_RECORDS, scored in one call of the model."""

    model_config = ConfigDict(extra="forbid")

    records: list[ReadmissionRecord] = Field(  # type: ignore[valid-type]
        min_length=1, max_length=MAX_RECORDS, description="Encounters to score."
    )


class ModelRef(BaseModel):
    """Which registered version produced a response."""

    name: str
    version: str
    alias: str


class Prediction(BaseModel):
    """P(readmission within 30 days) and the label at the model's threshold (1 = readmitted)."""

    probability: float
    label: int


class PredictResponse(BaseModel):
    """Predictions in request order, the model version and the threshold used for labels."""

    predictions: list[Prediction]
    model: ModelRef
    threshold: float


class ServedModelInfo(BaseModel):
    """A served model: version, alias, training time, held-out metrics, last refused version."""

    model_config = ConfigDict(extra="allow")

    name: str
    version: str | None
    alias: str
    status: str
    trained_at: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)


class ModelInfoResponse(BaseModel):
    """Every model the API serves, keyed by its API role (`readmission`, `job_match`)."""

    models: dict[str, ServedModelInfo]

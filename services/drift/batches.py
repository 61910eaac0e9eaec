"""Where a checked batch comes from: a generated later batch, a file, or live predictions."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from services.core.database import Database
from services.core.errors import InputError
from services.core.storage import Storage, parse_uri
from services.drift.settings import DriftSettings
from services.training.drift_scenarios import get_scenario
from services.training.readmission_io import load_readmission_csv
from services.training.readmission_schema import FEATURE_COLUMNS, FEATURE_TYPES, MISSING
from services.training.readmission_splits import split_readmission
from services.training.readmission_synthetic import generate_readmission

_SINCE = re.compile(r"^(\d+)\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def generated_data(settings: DriftSettings) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """The generated encounters under the configured drift scenario, and their later batches."""
    frame = generate_readmission(
        settings.readmission_rows,
        seed=settings.seed,
        scenario=get_scenario(settings.drift_scenario),
    )
    splits = split_readmission(frame, initial_share=settings.initial_share, seed=settings.seed)
    return frame, splits.future_batches(settings.drift_batches)


def generated_batches(settings: DriftSettings) -> list[pd.DataFrame]:
    """The later batches of the generated data, with the configured drift scenario."""
    return generated_data(settings)[1]


def generated_batch(settings: DriftSettings, number: int) -> tuple[pd.DataFrame, str]:
    """Later batch `number` (1 = oldest) and its report label."""
    if not 1 <= number <= settings.drift_batches:
        raise InputError(
            f"--batch must be between 1 and {settings.drift_batches} (BEACON_DRIFT_BATCHES)"
        )
    return generated_batches(settings)[number - 1], f"batch-{number}"


@contextmanager
def local_copy(uri: str | None, settings: DriftSettings) -> Iterator[Path | None]:
    """A local path for a local or s3:// input (an s3:// one lives in a temporary folder)."""
    if uri is None or not uri.startswith("s3://"):
        yield Path(uri) if uri else None
        return
    with tempfile.TemporaryDirectory(prefix="beacon-drift-") as tmp:
        yield Storage(settings.aws_region).download(uri, Path(tmp) / Path(parse_uri(uri).key).name)


def file_batch(uri: str, settings: DriftSettings) -> tuple[pd.DataFrame, str]:
    """A file in the diabetic_data.csv layout (local or s3://), validated like training data."""
    name = Path(parse_uri(uri).key if uri.startswith("s3://") else uri).name
    with tempfile.TemporaryDirectory(prefix="beacon-drift-") as tmp:
        local = Storage(settings.aws_region).download(uri, Path(tmp) / name)
        frame = load_readmission_csv(local)
    return frame, f"file-{Path(name).stem}"


def parse_since(text: str) -> timedelta:
    """`30m`, `1h`, `7d` as a timedelta; anything else is an InputError naming --since."""
    match = _SINCE.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise InputError(f"--since: expected a duration such as 30m, 1h or 7d, got {text!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_until(text: str | None) -> datetime:
    """An ISO 8601 time (UTC when no offset is given), or now."""
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"--until: expected an ISO 8601 time such as 2026-11-23T00:00:00+00:00, got {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def live_batch(
    db: Database, model_name: str, since: timedelta, until: datetime
) -> tuple[pd.DataFrame, np.ndarray, str]:
    """Predictions the API logged in [until - since, until): features and served scores."""
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT features, score FROM prediction_log WHERE model_name = %s "
            "AND predicted_at >= %s AND predicted_at < %s ORDER BY id",
            (model_name, until - since, until),
        ).fetchall()
    frame = pd.DataFrame([features for features, _ in rows], columns=FEATURE_COLUMNS)
    for column in FEATURE_COLUMNS:  # the same dtypes and `?` for missing as the training data
        if FEATURE_TYPES[column] is int:
            frame[column] = frame[column].astype(np.int64)
        else:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), MISSING)
    scores = np.array([score for _, score in rows], dtype=float)
    return frame, scores, f"live-{until.astimezone(UTC):%Y%m%dT%H%M}"

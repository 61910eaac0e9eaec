"""Feature columns that carry no information in a training window, and why they are dropped."""

from __future__ import annotations

import pandas as pd

from services.training.readmission_schema import FEATURE_COLUMNS, MISSING


def uninformative_columns(train: pd.DataFrame) -> dict[str, str]:
    """Feature columns with a single value (missing counts as a value) over `train`: reasons.

    Such a column cannot teach the model anything, and encoding it anyway would tie the
    model to that one value: a linear model folds it into its intercept, and the first batch
    where the column is filled in shifts every score. It is dropped from the features
    instead, and later batches are not checked on it (see gates.validate_data).
    """
    reasons: dict[str, str] = {}
    for column in FEATURE_COLUMNS:
        if column not in train.columns or train.empty:
            continue
        values = train[column].astype(object).where(train[column].notna(), MISSING)
        distinct = values.astype(str).str.strip().unique()
        if len(distinct) == 1:
            value = "missing" if distinct[0] in (MISSING, "") else "one value"
            reasons[column] = f"{value} in all {len(train)} training rows"
    return reasons

"""Column contract of the readmission data (layout of the public `diabetic_data.csv`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MISSING = "?"  # the original file writes missing values as a question mark
TARGET_COLUMN = "readmitted"
TARGET_VALUES: tuple[str, ...] = ("NO", ">30", "<30")
POSITIVE_VALUE = "<30"  # the model predicts readmission within 30 days
ID_COLUMNS: tuple[str, ...] = ("encounter_id", "patient_nbr")

MEDICATION_COLUMNS: list[str] = [
    "metformin",
    "repaglinide",
    "nateglinide",
    "chlorpropamide",
    "glimepiride",
    "acetohexamide",
    "glipizide",
    "glyburide",
    "tolbutamide",
    "pioglitazone",
    "rosiglitazone",
    "acarbose",
    "miglitol",
    "troglitazone",
    "tolazamide",
    "examide",
    "citoglipton",
    "insulin",
    "glyburide-metformin",
    "glipizide-metformin",
    "glimepiride-pioglitazone",
    "metformin-rosiglitazone",
    "metformin-pioglitazone",
]
MEDICATION_VALUES: tuple[str, ...] = ("No", "Steady", "Up", "Down")

AGE_BRACKETS: tuple[str, ...] = tuple(f"[{10 * i}-{10 * (i + 1)})" for i in range(10))
WEIGHT_BRACKETS: tuple[str, ...] = (
    "[0-25)",
    "[25-50)",
    "[50-75)",
    "[75-100)",
    "[100-125)",
    "[125-150)",
    "[150-175)",
    "[175-200)",
    ">200",
)
DIAGNOSIS_COLUMNS: list[str] = ["diag_1", "diag_2", "diag_3"]
# Integer codes in the file, categories for the model (their meaning is in IDS_mapping.csv).
CODE_COLUMNS: list[str] = [
    "admission_type_id",
    "discharge_disposition_id",
    "admission_source_id",
]


@dataclass(frozen=True)
class ColumnSpec:
    """One raw column: Python type in a request, allowed range or known values, meaning."""

    name: str
    dtype: type  # int or str: the JSON type a request carries
    description: str
    minimum: int | None = None
    maximum: int | None = None
    # Closed vocabularies (validation reports other values); None = open (any string accepted).
    values: tuple[str, ...] | None = None
    missing_allowed: bool = False  # may hold "?"


def _count(name: str, lo: int, hi: int, description: str) -> ColumnSpec:
    return ColumnSpec(name, int, description, minimum=lo, maximum=hi)


_SPECS: list[ColumnSpec] = [
    ColumnSpec("encounter_id", int, "Unique encounter id; increases with time.", minimum=1),
    ColumnSpec("patient_nbr", int, "Patient id; a patient has one or more encounters.", minimum=1),
    ColumnSpec(
        "race",
        str,
        "Race as recorded.",
        values=("Caucasian", "AfricanAmerican", "Hispanic", "Asian", "Other"),
        missing_allowed=True,
    ),
    ColumnSpec("gender", str, "Gender.", values=("Female", "Male", "Unknown/Invalid")),
    ColumnSpec("age", str, "Age bracket in 10-year steps, e.g. `[70-80)`.", values=AGE_BRACKETS),
    ColumnSpec(
        "weight",
        str,
        "Weight bracket in pounds (mostly missing).",
        values=WEIGHT_BRACKETS,
        missing_allowed=True,
    ),
    ColumnSpec("admission_type_id", int, "Admission type code (IDS_mapping.csv).", 1, 8),
    ColumnSpec(
        "discharge_disposition_id", int, "Discharge disposition code (IDS_mapping.csv).", 1, 30
    ),
    ColumnSpec("admission_source_id", int, "Admission source code (IDS_mapping.csv).", 1, 26),
    _count("time_in_hospital", 1, 14, "Days between admission and discharge."),
    ColumnSpec("payer_code", str, "Payer code, e.g. MC, HM, BC.", missing_allowed=True),
    ColumnSpec(
        "medical_specialty", str, "Specialty of the admitting physician.", missing_allowed=True
    ),
    _count("num_lab_procedures", 0, 200, "Lab tests during the encounter."),
    _count("num_procedures", 0, 10, "Procedures other than lab tests."),
    _count("num_medications", 0, 120, "Distinct generic medications administered."),
    _count("number_outpatient", 0, 100, "Outpatient visits in the year before."),
    _count("number_emergency", 0, 100, "Emergency visits in the year before."),
    _count("number_inpatient", 0, 50, "Inpatient visits in the year before."),
    ColumnSpec(
        "diag_1", str, "Primary diagnosis, ICD-9 (V and E codes too).", missing_allowed=True
    ),
    ColumnSpec("diag_2", str, "Secondary diagnosis, ICD-9.", missing_allowed=True),
    ColumnSpec("diag_3", str, "Additional secondary diagnosis, ICD-9.", missing_allowed=True),
    _count("number_diagnoses", 1, 20, "Diagnoses entered in the system."),
    ColumnSpec(
        "max_glu_serum", str, "Glucose serum test result.", values=("None", "Norm", ">200", ">300")
    ),
    ColumnSpec("A1Cresult", str, "HbA1c test result.", values=("None", "Norm", ">7", ">8")),
    *[
        ColumnSpec(m, str, f"Dose change of {m}.", values=MEDICATION_VALUES)
        for m in MEDICATION_COLUMNS
    ],
    ColumnSpec("change", str, "Any change of diabetic medication.", values=("No", "Ch")),
    ColumnSpec("diabetesMed", str, "Any diabetic medication prescribed.", values=("No", "Yes")),
    ColumnSpec(
        TARGET_COLUMN, str, "Readmission: `<30` days, `>30` days or `NO`.", values=TARGET_VALUES
    ),
]

COLUMN_SPECS: dict[str, ColumnSpec] = {spec.name: spec for spec in _SPECS}
RAW_COLUMNS: list[str] = [spec.name for spec in _SPECS]  # file order
FEATURE_COLUMNS: list[str] = [c for c in RAW_COLUMNS if c not in ID_COLUMNS and c != TARGET_COLUMN]
NUMERIC_COLUMNS: list[str] = [
    c for c in FEATURE_COLUMNS if COLUMN_SPECS[c].dtype is int and c not in CODE_COLUMNS
]
# Everything the model treats as a category, including the integer code columns.
CATEGORICAL_COLUMNS: list[str] = [c for c in FEATURE_COLUMNS if c not in NUMERIC_COLUMNS]
# The JSON type of each feature in a request (`/predict/readmission`): int or str.
FEATURE_TYPES: dict[str, type] = {c: COLUMN_SPECS[c].dtype for c in FEATURE_COLUMNS}

# One plausible record: documentation, smoke test when a model loads, README curl example.
EXAMPLE_RECORD: dict[str, Any] = {
    "race": "Caucasian",
    "gender": "Female",
    "age": "[70-80)",
    "weight": "?",
    "admission_type_id": 1,
    "discharge_disposition_id": 1,
    "admission_source_id": 7,
    "time_in_hospital": 5,
    "payer_code": "MC",
    "medical_specialty": "InternalMedicine",
    "num_lab_procedures": 45,
    "num_procedures": 1,
    "num_medications": 16,
    "number_outpatient": 0,
    "number_emergency": 0,
    "number_inpatient": 1,
    "diag_1": "428",
    "diag_2": "250.02",
    "diag_3": "401",
    "number_diagnoses": 9,
    "max_glu_serum": "None",
    "A1Cresult": ">8",
    **{m: "No" for m in MEDICATION_COLUMNS},
    "metformin": "Steady",
    "insulin": "Up",
    "change": "Ch",
    "diabetesMed": "Yes",
}


def to_target(series: Any) -> np.ndarray:
    """0/1 target from the `readmitted` column: 1 for readmission within 30 days (`<30`)."""
    return (np.asarray(series, dtype=object) == POSITIVE_VALUE).astype(np.int64)

"""Reading and writing readmission files: the UCI CSV or zip, its IDs mapping, strict checks."""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from services.core.errors import InputError
from services.training.readmission_schema import (
    CODE_COLUMNS,
    COLUMN_SPECS,
    DIAGNOSIS_COLUMNS,
    MISSING,
    RAW_COLUMNS,
    ColumnSpec,
)

MAX_REPORTED_PROBLEMS = 10
_ICD9 = re.compile(r"^(?:\d{1,3}(?:\.\d{1,2})?|V\d{1,2}(?:\.\d{1,2})?|E\d{3}(?:\.\d{1,2})?)$")
DATA_MEMBER = "diabetic_data.csv"  # names inside the UCI zip (any folder)
MAPPING_MEMBER = "ids_mapping.csv"


def load_readmission_csv(path: Path | str, ids_mapping: Path | str | None = None) -> pd.DataFrame:
    """Read and validate `diabetic_data.csv`, or the UCI zip that holds it, in time order.

    A `.zip` (as downloaded from UCI) is read in place: its `diabetic_data.csv`, and its
    `IDs_mapping.csv` for the code check unless `ids_mapping` is given. Raises InputError
    naming the column (and the line) of the first problems found. Messages never echo cell
    values: the file holds health records.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    mapping_text: list[str] | None = None
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            member = _zip_member(archive, path, DATA_MEMBER, required=True)
            source = f"{path.name}:{Path(member).name}"
            frame = _read_csv(archive.open(member), source)
            mapping_member = _zip_member(archive, path, MAPPING_MEMBER, required=False)
            if ids_mapping is None and mapping_member is not None:
                mapping_text = archive.read(mapping_member).decode("utf-8-sig").splitlines()
    else:
        source = path.name
        frame = _read_csv(path, source)
    frame = validate_readmission_frame(frame, source=source)
    if ids_mapping is not None:
        _check_codes(frame, load_ids_mapping(ids_mapping), source)
    elif mapping_text is not None:
        _check_codes(frame, parse_ids_mapping(mapping_text, f"{path.name}:IDs_mapping.csv"), source)
    return frame


def _zip_member(archive: zipfile.ZipFile, path: Path, name: str, *, required: bool) -> str | None:
    found = [m for m in archive.namelist() if Path(m).name.lower() == name.lower()]
    if len(found) > 1:
        raise InputError(f"{path.name}: {len(found)} files named {name} in the zip")
    if not found and required:
        raise InputError(f"{path.name}: no {name} in the zip")
    return found[0] if found else None


def _read_csv(source: Any, name: str) -> pd.DataFrame:
    try:
        return pd.read_csv(source, dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{name}: not a readable CSV file ({type(exc).__name__})") from exc


def validate_readmission_frame(frame: pd.DataFrame, source: str = "data") -> pd.DataFrame:
    """Check columns, types and vocabularies of raw string columns; return typed, time-ordered.

    Line numbers in messages count the header as line 1, as an editor shows the file.
    """
    missing = [c for c in RAW_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{source}: missing column(s): {', '.join(missing)}")
    if frame.empty:
        raise InputError(f"{source}: no data rows")
    frame = frame[RAW_COLUMNS].copy()
    problems: list[str] = []
    total = 0
    for col in RAW_COLUMNS:
        spec = COLUMN_SPECS[col]
        text = frame[col].astype(str).str.strip()
        if spec.dtype is int:
            bad = ~text.str.fullmatch(r"-?\d+")
        elif spec.values is not None:
            allowed = set(spec.values) | ({MISSING} if spec.missing_allowed else set())
            bad = ~text.isin(allowed)
        elif col in DIAGNOSIS_COLUMNS:
            bad = ~(text.str.fullmatch(_ICD9.pattern) | (text == MISSING))
        else:
            bad = text == ""
        if bad.any():
            lines = (np.flatnonzero(bad.to_numpy()) + 2)[:3]
            expected = _expected(spec)
            total += int(bad.sum())
            problems.append(
                f"column {col!r}: {int(bad.sum())} value(s) not {expected}, first at "
                f"line(s) {', '.join(map(str, lines))}"
            )
            continue
        frame[col] = text.astype(np.int64) if spec.dtype is int else text.astype(object)
    if problems:
        shown = problems[:MAX_REPORTED_PROBLEMS]
        raise InputError(
            f"{source}: {total} malformed value(s) in {len(problems)} column(s): "
            + "; ".join(shown)
        )
    duplicated = frame["encounter_id"].duplicated()
    if duplicated.any():
        line = int(np.flatnonzero(duplicated.to_numpy())[0]) + 2
        raise InputError(f"{source}: column 'encounter_id': duplicate id at line {line}")
    return frame.sort_values("encounter_id", kind="stable").reset_index(drop=True)


def _expected(spec: ColumnSpec) -> str:
    if spec.dtype is int:
        return "an integer"
    if spec.values is not None:
        values = list(spec.values) + ([MISSING] if spec.missing_allowed else [])
        return "one of " + ", ".join(values)
    if spec.name in DIAGNOSIS_COLUMNS:
        return "an ICD-9 code such as 428, 250.83, V57 or E878, or ?"
    return "a non-empty value"


def load_ids_mapping(path: Path | str) -> dict[str, dict[int, str]]:
    """Parse IDS_mapping.csv: three `<column>,description` sections separated by blank lines."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return parse_ids_mapping(handle, path.name)


def parse_ids_mapping(lines: Iterable[str], source: str) -> dict[str, dict[int, str]]:
    """The code tables of IDS_mapping.csv text (file lines or a zip member's lines)."""
    mapping: dict[str, dict[int, str]] = {}
    current: str | None = None
    for line_no, row in enumerate(csv.reader(lines), start=1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells):
            current = None
            continue
        if cells[0] in CODE_COLUMNS:
            current = cells[0]
            mapping[current] = {}
            continue
        if current is None or not cells[0].isdigit():
            raise InputError(
                f"{source}: line {line_no}: expected `<id>,<description>` under one of "
                f"the headers {', '.join(CODE_COLUMNS)}"
            )
        mapping[current][int(cells[0])] = ",".join(cells[1:]).strip()
    absent = [c for c in CODE_COLUMNS if c not in mapping]
    if absent:
        raise InputError(f"{source}: missing section(s): {', '.join(absent)}")
    return mapping


def _check_codes(frame: pd.DataFrame, mapping: dict[str, dict[int, str]], source: str) -> None:
    for col in CODE_COLUMNS:
        unknown = ~frame[col].isin(list(mapping[col]))
        if unknown.any():
            # Row order changed when sorting; report the encounter instead of the line.
            first = frame.loc[unknown, "encounter_id"].iloc[0]
            raise InputError(
                f"{source}: column {col!r}: {int(unknown.sum())} code(s) not in IDS_mapping.csv, "
                f"first at encounter_id {first}"
            )


def write_readmission_csv(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write a frame in the public file's CSV layout."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame[RAW_COLUMNS].to_csv(path, index=False)
    return path

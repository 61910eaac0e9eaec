"""Read user-supplied posting and resume files (CSV or JSONL, optionally gzipped) and validate."""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from services.core.errors import InputError
from services.jobs.documents import JobPosting, Resume

Kind = Literal["postings", "resumes"]
MODELS: dict[str, type[JobPosting] | type[Resume]] = {"postings": JobPosting, "resumes": Resume}
ID_FIELDS = {"postings": "job_id", "resumes": "resume_id"}
MAX_REPORTED_ERRORS = 20
_CSV_SUFFIXES = (".csv", ".csv.gz")
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
# PostgreSQL `integer` columns; larger values would fail only at write time.
_MAX_INT = 2**31 - 1
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


class DocumentFileError(InputError):
    """A file failed validation; `problems` holds the (capped) per-row messages."""

    def __init__(self, message: str, problems: list[str], total: int) -> None:
        super().__init__(message)
        self.problems = problems
        self.total = total


def accepted_fields(kind: Kind) -> tuple[list[str], list[str]]:
    """(all field names, required field names) for `kind`, in model order."""
    model = _model(kind)
    names = list(model.model_fields)
    return names, [n for n, f in model.model_fields.items() if f.is_required()]


def load_documents(path: Path | str, kind: Kind) -> list[JobPosting] | list[Resume]:
    """Parse and validate a whole file; raise DocumentFileError listing every bad row.

    Messages name the file, the line and the column but never echo cell values: files may
    hold personal data that must not end up in logs.
    """
    path = Path(path)
    model = _model(kind)
    name = path.name
    suffix = name.lower()
    if suffix.endswith(_CSV_SUFFIXES):
        rows = _csv_rows(path, kind)
    elif suffix.endswith(_JSONL_SUFFIXES):
        rows = _jsonl_rows(path, kind)
    else:
        raise InputError(
            f"{name}: unsupported file type; use .csv, .jsonl or .ndjson (optionally .gz)"
        )
    return _validate(name, kind, model, rows)


class _Problems:
    """Collects row errors, keeping the first few messages and counting the rest."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.messages: list[str] = []
        self.total = 0

    def add(self, message: str) -> None:
        self.total += 1
        if len(self.messages) < MAX_REPORTED_ERRORS:
            self.messages.append(f"{self.name} {message}")

    def raise_if_any(self) -> None:
        if not self.total:
            return
        if self.total == 1:
            raise DocumentFileError(self.messages[0], self.messages, self.total)
        lines = [f"{self.name}: {self.total} errors", *(f"  {m}" for m in self.messages)]
        if self.total > len(self.messages):
            lines.append(f"  ... and {self.total - len(self.messages)} more")
        raise DocumentFileError("\n".join(lines), self.messages, self.total)


# A parsed row: (where it is, e.g. "line 7", values by field, problems found while parsing it).
_Row = tuple[str, dict[str, Any], list[str]]


def _model(kind: str) -> type[JobPosting] | type[Resume]:
    try:
        return MODELS[kind]
    except KeyError:
        raise InputError(f"unknown document kind {kind!r}; use 'postings' or 'resumes'") from None


def _read_bytes(path: Path) -> bytes:
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path.name}: file not found") from None
    except (gzip.BadGzipFile, EOFError, zlib.error):
        raise InputError(f"{path.name}: not a valid gzip file") from None
    except OSError as exc:
        raise InputError(f"{path.name}: cannot read the file ({exc.strerror})") from None


def _decode(name: str, data: bytes, line_offset: int = 0, *, label: str = "line") -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = line_offset + data[: exc.start].count(b"\n") + 1
        raise InputError(f"{name} {label} {line}: not valid UTF-8 text") from None


def _csv_rows(path: Path, kind: Kind) -> Iterator[_Row]:
    name = path.name
    # Before parsing, only the text line of a bad byte is known, not its record.
    text = _decode(name, _read_bytes(path), label="text line")
    # newline="" keeps line breaks inside quoted cells (multi-paragraph descriptions) intact.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InputError(f"{name} line 1: malformed CSV ({exc})") from None
    if header is None or not any(h.strip() for h in header):
        raise InputError(f"{name}: the file is empty (expected a header row)")
    columns = [h.strip().lower() for h in header]
    _check_columns(name, kind, columns)
    # A row's "line" is its record number, as a spreadsheet shows it (header = line 1); when a
    # quoted cell spans lines, the text line where the row starts is added for editors.
    record, last_text_line = 1, reader.line_num
    while True:
        record, text_line = record + 1, last_text_line + 1
        where = f"line {record}" + (f" (text line {text_line})" if text_line != record else "")
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"{name} {where}: malformed CSV ({exc})") from None
        last_text_line = reader.line_num
        if not any(c.strip() for c in cells):
            continue  # blank lines are harmless
        if len(cells) != len(columns):
            yield where, {}, [f"{where}: expected {len(columns)} values, found {len(cells)}"]
            continue
        values: dict[str, Any] = {}
        for column, cell in zip(columns, cells, strict=True):
            value = cell.strip()
            if value == "":
                continue  # empty cell = not given: defaults apply, required fields report
            values[column] = value
        problems: list[str] = []
        _coerce_remote(values, where, "column", problems)
        yield where, values, problems


def _check_columns(name: str, kind: Kind, columns: list[str]) -> None:
    fields, required = accepted_fields(kind)
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    unknown = [c for c in columns if c not in fields]
    missing = [f for f in required if f not in columns]
    problems = []
    if duplicated:
        problems.append(f"duplicate columns: {', '.join(duplicated)}")
    if unknown:
        problems.append(f"unknown columns: {', '.join(unknown)} (accepted: {', '.join(fields)})")
    if missing:
        problems.append(f"missing required columns: {', '.join(missing)}")
    if problems:
        raise InputError(f"{name} line 1: " + "; ".join(problems))


def _jsonl_rows(path: Path, kind: Kind) -> Iterator[_Row]:
    name = path.name
    fields, _ = accepted_fields(kind)
    accepted = set(fields)
    for number, raw in enumerate(_read_bytes(path).split(b"\n"), start=1):
        text = _decode(name, raw, number - 1)
        where = f"line {number}"
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            # exc.msg describes the syntax problem without quoting the line.
            yield where, {}, [f"{where}: invalid JSON ({exc.msg}, column {exc.colno})"]
            continue
        if not isinstance(obj, dict):
            yield where, {}, [f"{where}: expected a JSON object"]
            continue
        unknown = [k for k in obj if k not in accepted]
        if unknown:
            yield where, {}, [f"{where}: unknown fields: {', '.join(map(str, unknown))}"]
            continue
        # null means "not given", as an empty CSV cell does.
        values = {k: v for k, v in obj.items() if v is not None}
        problems: list[str] = []
        _coerce_remote(values, where, "field", problems)
        yield where, values, problems


def _coerce_remote(values: dict[str, Any], where: str, label: str, problems: list[str]) -> None:
    value = values.get("remote")
    if not isinstance(value, str):
        return  # JSON booleans pass through to the model
    word = value.strip().lower()
    if word in _TRUE:
        values["remote"] = True
    elif word in _FALSE:
        values["remote"] = False
    else:
        problems.append(f"{where}, {label} remote: expected true/false, yes/no or 1/0")


def _validate(
    name: str, kind: Kind, model: type[BaseModel], rows: Iterator[_Row]
) -> list[JobPosting] | list[Resume]:
    label = "column" if name.lower().endswith(_CSV_SUFFIXES) else "field"
    id_field = ID_FIELDS[kind]
    problems = _Problems(name)
    seen: dict[str, str] = {}
    documents: list[Any] = []
    for where, values, row_problems in rows:
        for message in row_problems:
            problems.add(message)
        if row_problems:
            continue
        try:
            document = model.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors(include_input=False, include_url=False):
                problems.add(_describe(where, label, error))
            continue
        storage_problems = _unstorable(document)
        for field, message in storage_problems:
            problems.add(f"{where}, {label} {field}: {message}")
        if storage_problems:
            continue
        doc_id = getattr(document, id_field)
        if doc_id in seen:
            problems.add(f"{where}, {label} {id_field}: duplicate id, first used on {seen[doc_id]}")
            continue
        seen[doc_id] = where
        documents.append(document)
    problems.raise_if_any()
    if not documents:
        raise InputError(f"{name}: the file holds no {kind}")
    return documents


def _describe(where: str, label: str, error: ErrorDetails) -> str:
    field = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing" and label == "column":
        message = "a value is required"
    if not field:
        return f"{where}: {message}"
    return f"{where}, {label} {field}: {message}"


def _unstorable(document: BaseModel) -> list[tuple[str, str]]:
    """Values the model accepts but PostgreSQL would reject: NUL characters, integer overflow."""
    found = []
    for field in type(document).model_fields:
        value = getattr(document, field)
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            found.append((field, "text must not contain NUL characters"))
        elif isinstance(value, int) and not isinstance(value, bool) and value > _MAX_INT:
            found.append((field, f"must be at most {_MAX_INT}"))
    return found

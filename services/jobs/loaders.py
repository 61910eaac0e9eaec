"""Read user-supplied posting and resume files (CSV or JSONL, optionally gzipped) and validate."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from services.core.errors import InputError
from services.jobs.dedup import Collapsed, collapse_near_duplicates
from services.jobs.documents import JobPosting, Resume
from services.jobs.exports import LAYOUT_NAMES, Layout, detect_layout, header_key, layout_named

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
# Excel and older exports on Windows write this; it decodes all but five byte values.
FALLBACK_ENCODING = "windows-1252"
# Appended after the last record: if a quoted cell is still open at the end of the file, the
# parser swallows the marker into that cell, which is how a truncated last row is noticed.
_END_MARKER = "\x1e__beacon_end_of_file__\x1e"


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


@dataclass
class LoadedFile:
    """A validated file: its documents and how it was read."""

    documents: list[Any]
    layout: str = "beacon"
    encoding: str = "utf-8"
    #: Rows left out as near-duplicates of an earlier row (postings), or repeats of a row whose
    #: id is derived from its content.
    collapsed: list[Collapsed] = dataclass_field(default_factory=list)

    def describe(self) -> str:
        """One line for the CLI: layout, encoding, rows kept and collapsed."""
        return (
            f"layout {self.layout}, encoding {self.encoding}: {len(self.documents)} documents,"
            f" {len(self.collapsed)} duplicates collapsed"
        )


def load_documents(
    path: Path | str, kind: Kind, *, layout: str = "auto", encoding: str = "auto"
) -> list[JobPosting] | list[Resume]:
    """Parse and validate a whole file; raise DocumentFileError listing every bad row."""
    return read_documents(path, kind, layout=layout, encoding=encoding).documents


def read_documents(
    path: Path | str,
    kind: Kind,
    *,
    layout: str = "auto",
    encoding: str = "auto",
    collapse_duplicates: bool = True,
) -> LoadedFile:
    """Parse, map, validate and de-duplicate a whole file; raise DocumentFileError listing
    every bad row.

    `layout` is auto (recognised by the header), beacon, or an export layout name (see
    services.jobs.exports); `encoding` is auto (UTF-8, line by line falling back to
    Windows-1252) or a Python codec name. Messages name the file, the line and the column but
    never echo cell values: files may hold personal data that must not end up in logs.
    `collapse_duplicates=False` keeps near-duplicate postings (benchmarks compare both).
    """
    path = Path(path)
    model = _model(kind)
    name = path.name
    suffix = name.lower()
    if layout not in ("auto", *LAYOUT_NAMES):
        raise InputError(f"unknown layout {layout!r}; use auto, {', '.join(LAYOUT_NAMES)}")
    if encoding != "auto":
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"unknown encoding {encoding!r}") from None
    if suffix.endswith(_CSV_SUFFIXES):
        text, used = _decode_csv(name, _read_bytes(path), encoding)
        source, rows = _csv_rows(name, text, kind, layout)
    elif suffix.endswith(_JSONL_SUFFIXES):
        if layout not in ("auto", "beacon"):
            raise InputError(f"{name}: export layouts are CSV files; JSON Lines use Beacon's")
        source, used = _Source(None, {}), "utf-8" if encoding == "auto" else encoding
        rows = _jsonl_rows(path, kind, None if encoding == "auto" else encoding)
    else:
        raise InputError(
            f"{name}: unsupported file type; use .csv, .jsonl or .ndjson (optionally .gz)"
        )
    loaded = _validate(name, kind, model, rows, source, collapse_duplicates)
    loaded.encoding = used
    return loaded


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


@dataclass(frozen=True)
class _Source:
    """The export layout rows were mapped with (None: Beacon's own) and, for messages, the
    file's column behind each Beacon field."""

    layout: Layout | None
    columns: dict[str, str]


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


def _decode(name: str, data: bytes, line_offset: int = 0, *, encoding: str | None = None) -> str:
    """JSON is UTF-8 by definition (RFC 8259); another encoding only when named."""
    try:
        return data.decode(encoding or "utf-8-sig")
    except UnicodeDecodeError as exc:
        line = line_offset + data[: exc.start].count(b"\n") + 1
        raise InputError(f"{name} line {line}: not valid {encoding or 'UTF-8'} text") from None


def _decode_csv(name: str, data: bytes, encoding: str) -> tuple[str, str]:
    """The file's text and the encoding it was read with.

    auto: UTF-8 (a BOM is dropped; UTF-16 needs its BOM); when the file is not valid UTF-8,
    each line that is not is read as Windows-1252, which is how spreadsheets on Windows write
    accented names, curly quotes and bullets. Line by line, because exports stitched together
    from several sources mix the two.
    """
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise InputError(f"{name} text line {line}: not valid {encoding} text") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise InputError(f"{name}: not valid UTF-16 text despite its byte order mark") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    parts, fallback_lines, utf8_lines = [], 0, 0
    for number, raw in enumerate(data.removeprefix(codecs.BOM_UTF8).split(b"\n"), start=1):
        try:
            parts.append(raw.decode("utf-8"))
            utf8_lines += not raw.isascii()
        except UnicodeDecodeError:
            try:
                parts.append(raw.decode(FALLBACK_ENCODING))
            except UnicodeDecodeError:
                raise InputError(
                    f"{name} text line {number}: neither UTF-8 nor {FALLBACK_ENCODING} text;"
                    " name the file's encoding with --encoding"
                ) from None
            fallback_lines += 1
    if not utf8_lines:
        return "\n".join(parts), FALLBACK_ENCODING
    return "\n".join(parts), f"utf-8 with {fallback_lines} {FALLBACK_ENCODING} lines"


def _csv_rows(name: str, text: str, kind: Kind, layout_name: str) -> tuple[_Source, Iterator[_Row]]:
    """The layout the header calls for (None = Beacon's own) and the file's rows."""
    # newline="" keeps line breaks inside quoted cells (multi-paragraph descriptions) intact.
    separator = "" if text.endswith(("\n", "\r")) or not text else "\n"
    reader = csv.reader(io.StringIO(f"{text}{separator}{_END_MARKER}\n", newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InputError(f"{name} line 1: malformed CSV ({exc})") from None
    if header is None or header == [_END_MARKER] or not any(h.strip() for h in header):
        raise InputError(f"{name}: the file is empty (expected a header row)")
    if _END_MARKER in header[-1]:
        raise InputError(f"{name} line 1: the file ends inside a quoted cell (no closing quote)")
    layout = _choose_layout(name, kind, header, layout_name)
    if layout is None:
        columns = [h.strip().lower() for h in header]
        _check_columns(name, kind, columns)
        return _Source(None, {}), _csv_records(name, reader, columns, None, {})
    columns = [header_key(h) for h in header]
    _check_export_columns(name, layout, columns)
    original = {key: h.strip() for key, h in zip(columns, header, strict=True)}
    sources = {
        f: original[column]
        for f in layout.aliases
        if (column := layout.column(f, set(columns))) is not None
    }
    return _Source(layout, sources), _csv_records(name, reader, columns, layout, sources)


def _choose_layout(name: str, kind: Kind, header: list[str], layout_name: str) -> Layout | None:
    """Beacon's layout when the header has its level/headline column or only its columns, else
    the export layout whose signature it holds; an explicit --layout wins."""
    if layout_name == "beacon":
        return None
    if layout_name != "auto":
        try:
            return layout_named(layout_name, kind)
        except ValueError as exc:
            raise InputError(f"{name}: {exc}") from None
    fields, _ = accepted_fields(kind)
    plain = {h.strip().lower() for h in header}
    own = "seniority" if kind == "postings" else "headline"
    if own in plain or plain <= set(fields):
        return None
    return detect_layout(kind, {header_key(h) for h in header})


def _check_export_columns(name: str, layout: Layout, columns: list[str]) -> None:
    duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
    problems = []
    if duplicated:
        problems.append(f"duplicate columns: {', '.join(duplicated)}")
    for missing in layout.missing(set(columns)):
        problems.append(
            f"missing a {missing} column for layout {layout.name}"
            f" (one of: {', '.join(layout.aliases[missing])})"
        )
    if problems:
        raise InputError(f"{name} line 1: " + "; ".join(problems))


def _csv_records(
    name: str, reader: Any, columns: list[str], layout: Layout | None, sources: dict[str, str]
) -> Iterator[_Row]:
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
        if cells == [_END_MARKER]:
            return
        if cells and _END_MARKER in cells[-1]:
            raise InputError(
                f"{name} {where}: the file ends inside a quoted cell that this row opens"
                " (a closing quote is missing; was the file cut short?)"
            )
        if not any(c.strip() for c in cells):
            continue  # blank lines are harmless
        if len(cells) != len(columns):
            yield where, {}, [f"{where}: expected {len(columns)} values, found {len(cells)}"]
            continue
        if layout is not None:
            values, found = layout.convert(dict(zip(columns, cells, strict=True)))
            yield where, values, [f"{where}, column {sources.get(f, f)}: {m}" for f, m in found]
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
    if missing == ["seniority"] and not unknown:
        problems.append("or load it with --layout job-board to infer the level from the title")
    if problems:
        raise InputError(f"{name} line 1: " + "; ".join(problems))


def _jsonl_rows(path: Path, kind: Kind, encoding: str | None) -> Iterator[_Row]:
    name = path.name
    fields, _ = accepted_fields(kind)
    accepted = set(fields)
    for number, raw in enumerate(_read_bytes(path).split(b"\n"), start=1):
        text = _decode(name, raw, number - 1, encoding=encoding)
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
    name: str,
    kind: Kind,
    model: type[BaseModel],
    rows: Iterator[_Row],
    source: _Source,
    collapse_duplicates: bool = True,
) -> LoadedFile:
    label = "column" if name.lower().endswith(_CSV_SUFFIXES) else "field"
    id_field = ID_FIELDS[kind]
    # An export without an id column gets ids derived from the row's content: a repeated id
    # is then a repeated row, collapsed rather than refused.
    derived = source.layout is not None and id_field not in source.columns
    problems = _Problems(name)
    seen: dict[str, str] = {}
    documents: list[Any] = []
    where_of: list[str] = []
    collapsed: list[Collapsed] = []
    for where, values, row_problems in rows:
        for message in row_problems:
            problems.add(message)
        if row_problems:
            continue
        try:
            document = model.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors(include_input=False, include_url=False):
                problems.add(_describe(where, label, error, source.columns))
            continue
        storage_problems = _unstorable(document)
        for field_name, message in storage_problems:
            column = source.columns.get(field_name, field_name)
            problems.add(f"{where}, {label} {column}: {message}")
        if storage_problems:
            continue
        doc_id = getattr(document, id_field)
        if doc_id in seen:
            if derived:
                collapsed.append(Collapsed(where, doc_id, seen[doc_id], doc_id))
                continue
            column = source.columns.get(id_field, id_field)
            problems.add(f"{where}, {label} {column}: duplicate id, first used on {seen[doc_id]}")
            continue
        seen[doc_id] = where
        documents.append(document)
        where_of.append(where)
    problems.raise_if_any()
    if not documents:
        raise InputError(f"{name}: the file holds no {kind}")
    if kind == "postings" and collapse_duplicates:
        documents, near = collapse_near_duplicates(documents, where_of)
        collapsed.extend(near)
    return LoadedFile(
        documents=documents,
        layout=source.layout.name if source.layout else "beacon",
        collapsed=collapsed,
    )


def _describe(where: str, label: str, error: ErrorDetails, columns: dict[str, str]) -> str:
    field = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
    field = columns.get(field, field)
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

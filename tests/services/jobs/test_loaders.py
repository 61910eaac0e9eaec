"""User files load when valid and fail with a precise, value-free message when not."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from services.core.errors import InputError
from services.jobs.documents import JobPosting, Resume
from services.jobs.loaders import (
    MAX_REPORTED_ERRORS,
    DocumentFileError,
    accepted_fields,
    load_documents,
)
from services.jobs.store import count_documents, load_file
from services.jobs.synthetic import Corpus, generate_corpus, write_corpus

# Planted in bad cells: it must never show up in an error message.
SECRET = "PRIVATE-VALUE-42"


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return generate_corpus(n_postings=60, n_resumes=20, seed=5)


@pytest.fixture(scope="module")
def flat(corpus: Corpus) -> list[JobPosting]:
    """Postings whose descriptions fit on one line, so CSV records and text lines coincide."""
    return [
        p.model_copy(update={"description": p.description.replace("\n\n", " ")})
        for p in corpus.postings
    ]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


def write_csv(path: Path, docs: list, *, gz: bool = False) -> Path:
    """Write documents the way a spreadsheet export would: one column per field."""
    fields = list(type(docs[0]).model_fields)
    opener = gzip.open if gz else open
    with opener(path, "wt", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(fields)
        for doc in docs:
            writer.writerow([_cell(getattr(doc, f)) for f in fields])
    return path


def rows_of(docs: list) -> list[dict[str, str]]:
    fields = list(type(docs[0]).model_fields)
    return [{f: _cell(getattr(d, f)) for f in fields} for d in docs]


def write_rows(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def error_of(path: Path, kind: str = "postings") -> str:
    with pytest.raises(InputError) as info:
        load_documents(path, kind)
    message = str(info.value)
    assert SECRET not in message
    return message


# --- happy paths -----------------------------------------------------------------------------


def test_jsonl_round_trip(corpus: Corpus, tmp_path: Path) -> None:
    postings_path, resumes_path = write_corpus(corpus, tmp_path)
    assert load_documents(postings_path, "postings") == corpus.postings
    assert load_documents(resumes_path, "resumes") == corpus.resumes


def test_csv_round_trip_with_multiline_cells(corpus: Corpus, tmp_path: Path) -> None:
    assert "\n\n" in corpus.postings[0].description
    postings = write_csv(tmp_path / "postings.csv", corpus.postings)
    resumes = write_csv(tmp_path / "resumes.csv", corpus.resumes)
    assert load_documents(postings, "postings") == corpus.postings
    assert load_documents(resumes, "resumes") == corpus.resumes


def test_gzip_and_ndjson(corpus: Corpus, tmp_path: Path) -> None:
    csv_gz = write_csv(tmp_path / "postings.csv.gz", corpus.postings, gz=True)
    assert load_documents(csv_gz, "postings") == corpus.postings
    postings_path, _ = write_corpus(corpus, tmp_path)
    jsonl_gz = tmp_path / "postings.jsonl.gz"
    jsonl_gz.write_bytes(gzip.compress(postings_path.read_bytes()))
    assert load_documents(jsonl_gz, "postings") == corpus.postings
    ndjson = tmp_path / "postings.NDJSON"
    ndjson.write_bytes(postings_path.read_bytes())
    assert load_documents(ndjson, "postings") == corpus.postings


def test_csv_conventions(corpus: Corpus, tmp_path: Path) -> None:
    rows = rows_of(corpus.postings[:6])
    for row, remote in zip(rows, ["yes", "No", "1", "0", "TRUE", ""], strict=True):
        row["remote"] = remote
    rows[0]["salary_min"] = rows[0]["salary_max"] = ""
    rows[1]["skills"] = " Python ; SQL;;spark "
    rows[2]["role_family"] = ""
    path = tmp_path / "postings.csv"
    # Header names are matched case-insensitively and in any order.
    columns = list(reversed(rows[0]))
    write_rows(path, [{c: r[c] for c in columns} for r in rows], columns)
    path.write_text(
        path.read_text(encoding="utf-8").replace("job_id", " Job_ID ", 1), encoding="utf-8"
    )
    loaded = load_documents(path, "postings")
    assert [p.remote for p in loaded] == [True, False, True, False, True, False]
    assert loaded[0].salary_min is None and loaded[0].salary_max is None
    assert loaded[1].skills == ["python", "sql", "spark"]
    assert loaded[2].role_family is None


def test_json_null_means_not_given(corpus: Corpus, tmp_path: Path) -> None:
    record = corpus.postings[0].model_dump(mode="json") | {"remote": None, "salary_min": None}
    path = tmp_path / "postings.jsonl"
    path.write_text(json.dumps(record) + "\n\n", encoding="utf-8")
    (posting,) = load_documents(path, "postings")
    assert posting.remote is False and posting.salary_min is None


def test_accepted_fields_follow_the_models() -> None:
    fields, required = accepted_fields("postings")
    assert fields == list(JobPosting.model_fields)
    assert set(required) == {"job_id", "title", "company", "location", "seniority", "description"}
    fields, required = accepted_fields("resumes")
    assert fields == list(Resume.model_fields)
    assert set(required) == {"resume_id", "headline", "summary"}


# --- errors ----------------------------------------------------------------------------------


def test_bad_value_names_file_line_and_column(flat: list[JobPosting], tmp_path: Path) -> None:
    rows = rows_of(flat[:10])
    rows[5]["salary_min"] = SECRET  # 6th data row: line 7, the header being line 1
    message = error_of(write_rows(tmp_path / "postings.csv", rows))
    assert message.startswith(
        "postings.csv line 7, column salary_min: Input should be a valid integer"
    )


def test_every_error_is_reported_and_capped(flat: list[JobPosting], tmp_path: Path) -> None:
    rows = rows_of(flat[:40])
    for row in rows[:30]:
        row["seniority"] = SECRET
    path = write_rows(tmp_path / "postings.csv", rows)
    with pytest.raises(DocumentFileError) as info:
        load_documents(path, "postings")
    error = info.value
    assert error.total == 30 and len(error.problems) == MAX_REPORTED_ERRORS
    message = str(error)
    assert SECRET not in message
    assert message.splitlines()[0] == "postings.csv: 30 errors"
    assert "postings.csv line 2, column seniority: Input should be 'intern'" in message
    assert "postings.csv line 21, column seniority" in message
    assert "line 22," not in message
    assert message.splitlines()[-1].strip() == "... and 10 more"


def test_several_kinds_of_row_errors(flat: list[JobPosting], tmp_path: Path) -> None:
    rows = rows_of(flat[:8])
    rows[0]["title"] = ""
    rows[1]["remote"] = SECRET
    rows[2]["salary_min"], rows[2]["salary_max"] = "90000", "80000"
    rows[3]["posted_at"] = SECRET
    rows[4]["description"] = "has a \x00 character"
    rows[5]["salary_max"] = str(2**40)
    message = error_of(write_rows(tmp_path / "postings.csv", rows))
    assert "postings.csv: 6 errors" in message
    assert "postings.csv line 2, column title: a value is required" in message
    assert "postings.csv line 3, column remote: expected true/false, yes/no or 1/0" in message
    assert "postings.csv line 4: salary_min must not exceed salary_max" in message
    assert "postings.csv line 5, column posted_at: Input should be a valid date" in message
    assert "postings.csv line 6, column description: text must not contain NUL" in message
    assert "postings.csv line 7, column salary_max: must be at most 2147483647" in message


def test_multiline_cells_add_the_text_line(corpus: Corpus, tmp_path: Path) -> None:
    # Descriptions span several lines: the record number stays the spreadsheet row, and the
    # text line where the row starts is added for people reading the file in an editor.
    rows = rows_of(corpus.postings[:3])
    rows[2]["seniority"] = SECRET
    path = write_rows(tmp_path / "postings.csv", rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines, 1) if line.startswith(rows[2]["job_id"]))
    assert start > 4
    assert f"postings.csv line 4 (text line {start}), column seniority" in error_of(path)


def test_unknown_and_missing_columns(corpus: Corpus, tmp_path: Path) -> None:
    rows = rows_of(corpus.postings[:3])
    for row in rows:
        row["favourite_colour"] = SECRET
        del row["title"], row["company"]
    message = error_of(write_rows(tmp_path / "postings.csv", rows))
    assert message.startswith("postings.csv line 1: ")
    assert "unknown columns: favourite_colour" in message
    assert "missing required columns: title, company" in message


def test_resume_columns_are_not_posting_columns(corpus: Corpus, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "resumes.csv", corpus.resumes)
    message = error_of(path, "postings")
    assert "unknown columns: resume_id, name, headline, summary" in message
    assert "missing required columns: job_id, title" in message


def test_duplicate_ids_name_both_rows(flat: list[JobPosting], tmp_path: Path) -> None:
    rows = rows_of(flat[:6])
    rows[4]["job_id"] = rows[1]["job_id"]
    message = error_of(write_rows(tmp_path / "postings.csv", rows))
    assert message == "postings.csv line 6, column job_id: duplicate id, first used on line 3"


def test_empty_files(tmp_path: Path) -> None:
    empty_csv = tmp_path / "postings.csv"
    empty_csv.write_bytes(b"")
    assert "postings.csv: the file is empty" in error_of(empty_csv)
    header_only = tmp_path / "resumes.csv"
    header_only.write_text("resume_id,headline,summary\n", encoding="utf-8")
    assert error_of(header_only, "resumes") == "resumes.csv: the file holds no resumes"
    blank_jsonl = tmp_path / "postings.jsonl"
    blank_jsonl.write_text("\n  \n", encoding="utf-8")
    assert error_of(blank_jsonl) == "postings.jsonl: the file holds no postings"


def test_invalid_json_lines(corpus: Corpus, tmp_path: Path) -> None:
    lines = [p.model_dump_json() for p in corpus.postings[:5]]
    lines[1] = '{"job_id": "' + SECRET + '", "title": '
    lines[2] = "[1, 2, 3]"
    lines[3] = json.dumps(corpus.postings[3].model_dump(mode="json") | {"colour": SECRET})
    lines[4] = json.dumps({k: v for k, v in json.loads(lines[4]).items() if k != "title"})
    path = tmp_path / "postings.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = error_of(path)
    assert "postings.jsonl line 2: invalid JSON (Expecting value, column" in message
    assert "postings.jsonl line 3: expected a JSON object" in message
    assert "postings.jsonl line 4: unknown fields: colour" in message
    assert "postings.jsonl line 5, field title: Field required" in message


def test_undecodable_bytes(corpus: Corpus, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "postings.csv", corpus.postings[:3])
    data = path.read_bytes()
    second_line = data.index(b"\n") + 1
    path.write_bytes(data[:second_line] + b"\xff\xfe" + data[second_line:])
    with pytest.raises(InputError) as info:
        load_documents(path, "postings", encoding="utf-8")  # named: no fallback
    assert str(info.value) == "postings.csv text line 2: not valid utf-8 text"
    # auto reads a line that is not UTF-8 as Windows-1252 (tests/services/jobs/test_exports.py);
    # a byte Windows-1252 leaves undefined is an error naming the line.
    path.write_bytes(data[:second_line] + b"\x81" + data[second_line:])
    assert error_of(path) == (
        "postings.csv text line 2: neither UTF-8 nor windows-1252 text;"
        " name the file's encoding with --encoding"
    )
    jsonl = tmp_path / "resumes.jsonl"
    jsonl.write_bytes(corpus.resumes[0].model_dump_json().encode() + b"\n\xc3\x28\n")
    assert error_of(jsonl, "resumes") == "resumes.jsonl line 2: not valid UTF-8 text"


def test_bad_gzip_wrong_cell_count_and_unsupported_type(corpus: Corpus, tmp_path: Path) -> None:
    fake_gz = tmp_path / "postings.csv.gz"
    fake_gz.write_bytes(b"not gzip at all")
    assert error_of(fake_gz) == "postings.csv.gz: not a valid gzip file"
    path = write_csv(tmp_path / "postings.csv", corpus.postings[:2])
    path.write_text(path.read_text(encoding="utf-8") + "a,b,c\n", encoding="utf-8")
    assert "expected 12 values, found 3" in error_of(path)
    assert "unsupported file type" in error_of(tmp_path / "postings.xlsx")
    with pytest.raises(InputError, match="unknown document kind"):
        load_documents(path, "jobs")  # type: ignore[arg-type]


# --- nothing half-written --------------------------------------------------------------------


def test_one_bad_row_writes_nothing(db, flat: list[JobPosting], tmp_path: Path) -> None:
    rows = rows_of(flat)
    rows[37]["salary_min"] = SECRET
    bad = write_rows(tmp_path / "postings.csv", rows)
    with db.connection() as conn, pytest.raises(InputError, match="line 39, column salary_min"):
        load_file(conn, bad, "postings")
    with db.connection() as conn:
        assert count_documents(conn)["postings"] == 0


def test_bad_replace_file_leaves_existing_rows_alone(db, corpus: Corpus, tmp_path: Path) -> None:
    postings_path, resumes_path = write_corpus(corpus, tmp_path)
    with db.connection() as conn:
        assert load_file(conn, postings_path, "postings").inserted == len(corpus.postings)
        assert load_file(conn, resumes_path, "resumes").inserted == len(corpus.resumes)
    # A truncated export with one broken row, loaded as the full set: nothing may be deleted.
    lines = postings_path.read_text(encoding="utf-8").splitlines()[:10]
    lines[4] = lines[4].replace('"seniority": "', '"seniority": "x', 1)
    partial = tmp_path / "partial.jsonl"
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with db.connection() as conn, pytest.raises(InputError, match="line 5, field seniority"):
        load_file(conn, partial, "postings", replace=True)
    with db.connection() as conn:
        assert count_documents(conn) == {
            "postings": len(corpus.postings),
            "resumes": len(corpus.resumes),
            "chunks": 0,
        }
        stats = load_file(conn, postings_path, "postings", replace=True)
    assert (stats.inserted, stats.updated, stats.deleted) == (0, 0, 0)
    assert stats.unchanged == len(corpus.postings)

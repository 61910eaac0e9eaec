"""Job-board and resume exports load as they come: layouts, salaries, levels, encodings,
near-duplicates, truncated files (hand-written fixtures, no real people)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from services.cli import app
from services.core.errors import InputError
from services.jobs.dedup import NEAR_DUPLICATE_JACCARD, collapse_near_duplicates
from services.jobs.documents import JobPosting, seniority_from_title
from services.jobs.exports import (
    JOB_BOARD,
    derived_id,
    family_key,
    headline_of,
    level_for_years,
    years_stated,
)
from services.jobs.loaders import read_documents
from services.jobs.salary import SalaryError, parse_salary

FIXTURES = Path(__file__).parent / "fixtures"
GLASSDOOR = FIXTURES / "glassdoor_postings.csv"
LINKEDIN = FIXTURES / "linkedin_postings.csv"
INDEED = FIXTURES / "indeed_postings.csv"
RESUMES = FIXTURES / "resumes_category.csv"
SECRET = "PRIVATE-VALUE-42"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("$53K-$91K (Glassdoor est.)", (53_000, 91_000, "USD", "year")),
        ("Employer Provided Salary:$80K-$90K", (80_000, 90_000, "USD", "year")),
        ("$17-$24 Per Hour(Glassdoor est.)", (17 * 2080, 24 * 2080, "USD", "hour")),
        ("€45.000 \u2013 €55.000 a year", (45_000, 55_000, "EUR", "year")),
        ("£30k", (30_000, 30_000, "GBP", "year")),
        ("53-91K", (53_000, 91_000, None, "year")),
        ("1.2M", (1_200_000, 1_200_000, None, "year")),
        ("$120,000", (120_000, 120_000, "USD", "year")),
        ("$5,000/month", (60_000, 60_000, "USD", "month")),
        ("65K USD - 80K USD", (65_000, 80_000, "USD", "year")),
    ],
)
def test_salary_strings(cell: str, expected: tuple) -> None:
    salary = parse_salary(cell)
    assert salary is not None
    assert (salary.minimum, salary.maximum, salary.currency, salary.period) == expected


@pytest.mark.parametrize("cell", ["-1", "", "  ", "N/A", "n/a", "null", "Unknown", "Competitive"])
def test_unknown_salary_markers_are_none(cell: str) -> None:
    assert parse_salary(cell) is None


def test_pay_period_column_and_bad_salaries() -> None:
    hourly = parse_salary("28", period="hour")
    assert hourly is not None and hourly.minimum == 28 * 2080
    named = parse_salary("$30 an hour", period="year")  # the text's own period wins
    assert named is not None and named.period == "hour"
    for bad in ("1 2 3", "100K to 80K", "$50K and $60K"):
        with pytest.raises(SalaryError) as info:
            parse_salary(bad)
        assert bad not in str(info.value)


def test_seniority_rule() -> None:
    assert seniority_from_title("Sr. Data Engineer") == "senior"
    assert seniority_from_title("Staff Software Engineer") == "principal"
    assert seniority_from_title("Staff Accountant") is None  # a role, not a level
    assert seniority_from_title("Director of Nursing") == "lead"
    assert seniority_from_title("Software Engineer Intern") == "intern"
    assert seniority_from_title("Entry-Level Analyst") == "junior"
    assert seniority_from_title("Product Manager") is None


def test_glassdoor_export_loads_as_it_comes() -> None:
    loaded = read_documents(GLASSDOOR, "postings")
    assert loaded.layout == "glassdoor" and loaded.encoding == "utf-8"
    by_title: dict[str, list[JobPosting]] = {}
    for posting in loaded.documents:
        by_title.setdefault(posting.title, []).append(posting)
    # 12 rows: an exact repeat (nurse) and two city reposts collapse; the second Software
    # Engineer ad of the same company is another team's job and stays.
    assert len(loaded.documents) == 9 and len(loaded.collapsed) == 3
    assert [c.dropped.split()[1] for c in loaded.collapsed] == ["6", "3", "10"]
    assert len(by_title["Software Engineer"]) == 2
    scientist = by_title["Data Scientist"][0]
    assert scientist.company == "Northwind Analytics"  # "\n3.9" rating suffix dropped
    assert (scientist.salary_min, scientist.salary_max) == (111_000, 181_000)
    assert scientist.seniority == "mid"  # no marker in the title
    assert scientist.location == "New York, NY"  # the first of the collapsed pair is kept
    assert {"python", "sql", "machine learning"} <= set(scientist.skills)
    senior = by_title["Senior Data Scientist"][0]
    assert senior.seniority == "senior" and senior.remote and senior.salary_min is None
    nurse = by_title["Registered Nurse - ICU"][0]
    assert (nurse.salary_min, nurse.salary_max) == (35 * 2080, 52 * 2080)
    assert by_title["Lead Software Engineer"][0].seniority == "lead"
    assert by_title["Staff Accountant"][0].seniority == "mid"
    # Ids come from the content, so a re-sorted export maps to the same rows.
    assert scientist.job_id == derived_id(
        "gd", scientist.company, scientist.title, scientist.location, scientist.description
    )


def test_reloading_a_resorted_export_gives_the_same_ids(tmp_path: Path) -> None:
    with GLASSDOOR.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    resorted = tmp_path / "resorted.csv"
    with resorted.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([rows[0], *reversed(rows[1:])])
    first = {p.job_id for p in read_documents(GLASSDOOR, "postings").documents}
    second = read_documents(resorted, "postings")
    # Reversed, the later repost of each pair is the one kept: same jobs, other ids for those two.
    assert len(second.documents) == 9
    assert len(first & {p.job_id for p in second.documents}) == 7


def test_linkedin_and_indeed_style_exports() -> None:
    linkedin = read_documents(LINKEDIN, "postings")
    assert linkedin.layout == "job-board"
    analyst, marketing, backend = linkedin.documents
    assert analyst.job_id == "3884428798"  # the export's own id is kept
    assert (analyst.salary_min, analyst.salary_max) == (28 * 2080, 35 * 2080)  # HOURLY
    assert analyst.seniority == "junior" and analyst.remote  # "Entry level", remote_allowed 1
    assert str(analyst.posted_at) == "2024-04-17"  # listed_time in milliseconds
    assert {"sql", "power bi", "excel"} <= set(analyst.skills)  # skills_desc text
    assert (marketing.salary_min, marketing.salary_max) == (85_000, 85_000)  # med_salary
    assert marketing.seniority == "mid"  # "Mid-Senior level" asks the title, which says nothing
    assert backend.seniority == "senior" and backend.salary_max == 160_000
    indeed = read_documents(INDEED, "postings")
    pharmacy, developer = indeed.documents
    assert indeed.layout == "job-board" and pharmacy.job_id.startswith("jb-")
    assert (pharmacy.salary_min, pharmacy.salary_max) == (21_000, 24_000)
    assert developer.salary_min is None and developer.remote and developer.seniority == "junior"


def test_windows_1252_resume_export() -> None:
    raw = RESUMES.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the fixture really is not UTF-8
    loaded = read_documents(RESUMES, "resumes")
    assert loaded.layout == "resume-category" and loaded.encoding == "windows-1252"
    assert len(loaded.documents) == 5 and len(loaded.collapsed) == 1  # a repeated resume
    scientist = loaded.documents[0]
    assert scientist.role_family == "data_science"
    assert "\u2022 Python" in scientist.summary and "r\u00e9sum\u00e9" in scientist.summary
    assert scientist.headline.startswith("Data Scientist with five years")
    assert {"python", "sql", "statistics"} <= set(scientist.skills)
    # "with five years of experience" in the opening: 5 years, senior by the corpus's bands.
    assert (scientist.years_experience, scientist.seniority) == (5, "senior")
    accountant = next(r for r in loaded.documents if r.role_family == "accountant")
    assert (accountant.years_experience, accountant.seniority) == (None, None)
    assert {r.role_family for r in loaded.documents} == {
        "data_science",
        "health_and_fitness",
        "accountant",
        "java_developer",
        "hr",
    }
    # An explicitly named encoding is used as named, with no fallback.
    with pytest.raises(InputError, match=r"resumes_category.csv text line 3: not valid utf-8"):
        read_documents(RESUMES, "resumes", encoding="utf-8")
    latin = read_documents(RESUMES, "resumes", encoding="cp1252")
    assert [r.summary for r in latin.documents] == [r.summary for r in loaded.documents]


def test_mixed_utf8_and_windows_1252_lines(tmp_path: Path) -> None:
    path = tmp_path / "resumes.csv"
    path.write_bytes(
        b"Category,Resume\n"
        + 'HR,"Caf\u00e9 manager, payroll"\n'.encode()
        + 'Accountant,"Na\u00efve \u2013 GAAP"\n'.encode("cp1252")
    )
    loaded = read_documents(path, "resumes")
    assert loaded.encoding == "utf-8 with 1 windows-1252 lines"
    assert [r.summary for r in loaded.documents] == [
        "Caf\u00e9 manager, payroll",
        "Na\u00efve \u2013 GAAP",
    ]


def test_truncated_quoted_last_row_is_an_error(tmp_path: Path) -> None:
    text = GLASSDOOR.read_text(encoding="utf-8")
    cut = tmp_path / "postings.csv"
    cut.write_text(text[: text.rindex("Summit Retail") + 6], encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_documents(cut, "postings")
    # The last record (line 13, starting on text line 66) opens the quote that never closes.
    assert str(info.value).startswith(
        "postings.csv line 13 (text line 66): the file ends inside a quoted cell"
    )
    # Beacon's own layout and a file without a final newline get the same check.
    own = tmp_path / "resumes.csv"
    own.write_text('resume_id,headline,summary\nr1,Nurse,"ICU nurse\n\nseven years', "utf-8")
    with pytest.raises(InputError, match=r"resumes.csv line 2: the file ends inside a quoted"):
        read_documents(own, "resumes")
    complete = tmp_path / "complete.csv"
    complete.write_text('resume_id,headline,summary\nr1,Nurse,"ICU nurse\n\nseven years"', "utf-8")
    assert len(read_documents(complete, "resumes").documents) == 1


def test_export_errors_name_row_and_column_without_values(tmp_path: Path) -> None:
    with GLASSDOOR.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    rows[2]["Salary Estimate"] = f"{SECRET} 1 2 3"
    rows[4]["Job Title"] = "-1"
    path = tmp_path / "postings.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(InputError) as info:
        read_documents(path, "postings")
    message = str(info.value)
    assert SECRET not in message
    assert "postings.csv: 2 errors" in message
    assert "line 4 (text line 20), column Salary Estimate: expected an amount" in message
    assert "line 6 (text line 30), column Job Title: a value is required" in message
    no_description = tmp_path / "jobs.csv"
    no_description.write_text("Job Title,Company Name,Location,Salary Estimate\n", "utf-8")
    with pytest.raises(InputError, match="missing a description column for layout glassdoor"):
        read_documents(no_description, "postings", layout="glassdoor")
    with pytest.raises(InputError, match="unknown layout"):
        read_documents(GLASSDOOR, "postings", layout="monster")
    with pytest.raises(InputError, match="no postings layout 'resume-category'"):
        read_documents(GLASSDOOR, "postings", layout="resume-category")


def test_beacon_files_keep_strict_columns(tmp_path: Path) -> None:
    # A Beacon file (it has a seniority column) with a typo is refused, not read as an export.
    path = tmp_path / "postings.csv"
    path.write_text(
        "job_id,title,company,location,seniority,description,salary_mn\n"
        "j1,Nurse,Mercy,Chicago,mid,ICU nights,50000\n",
        "utf-8",
    )
    with pytest.raises(InputError, match="unknown columns: salary_mn"):
        read_documents(path, "postings")
    # Only Beacon's columns but no level: Beacon's layout says what is missing and the way out.
    no_level = tmp_path / "jobs.csv"
    no_level.write_text("job_id,title,company,location,description\nj1,Sr. Nurse,M,C,ICU\n")
    with pytest.raises(InputError) as info:
        read_documents(no_level, "postings")
    assert str(info.value) == (
        "jobs.csv line 1: missing required columns: seniority; or load it with --layout"
        " job-board to infer the level from the title"
    )
    (posting,) = read_documents(no_level, "postings", layout="job-board").documents
    assert posting.job_id == "j1" and posting.seniority == "senior"


def test_near_duplicates_need_company_title_and_text() -> None:
    base = dict(location="Austin, TX", seniority="mid", description="")
    text = " ".join(f"word{i}" for i in range(60))
    variant = text.replace("word30", "Denver")  # one word changed: a repost
    postings = [
        JobPosting(job_id="a", title="Analyst", company="Acme", **{**base, "description": text}),
        JobPosting(job_id="b", title="analyst", company="ACME", **{**base, "description": variant}),
        JobPosting(job_id="c", title="Analyst", company="Other", **{**base, "description": text}),
        JobPosting(job_id="d", title="Engineer", company="Acme", **{**base, "description": text}),
    ]
    kept, collapsed = collapse_near_duplicates(postings, ["l2", "l3", "l4", "l5"])
    assert [p.job_id for p in kept] == ["a", "c", "d"]
    assert [(c.dropped_id, c.kept_id) for c in collapsed] == [("b", "a")]
    assert NEAR_DUPLICATE_JACCARD == 0.8


def test_years_and_level_of_a_resume() -> None:
    assert years_stated("Nurse with 7+ yrs in ICU") == 7
    assert years_stated("Twelve years of B2B sales") == 12
    assert years_stated("x" * 500 + " 9 years") is None  # only the opening counts
    assert [level_for_years(y) for y in (None, 1, 3, 5, 9, 13)] == [
        None,
        "junior",
        "mid",
        "senior",
        "lead",
        "principal",
    ]


def test_helpers() -> None:
    row = {"title": "a", "company": "b", "location": "c", "description": "d"}
    for stamp in ("1e30", "inf", "2024-13-45"):
        _, problems = JOB_BOARD.convert({**row, "posted_at": stamp})
        assert problems == [("posted_at", "expected a date (YYYY-MM-DD) or a Unix timestamp")]
    values, _ = JOB_BOARD.convert({**row, "posted_at": "2024-04-17T10:00:00Z"})
    assert str(values["posted_at"]) == "2024-04-17"
    values, _ = JOB_BOARD.convert({**row, "skills": "Python, SQL|dbt", "description": "uses dbt"})
    assert JobPosting.model_validate(values).skills == ["python", "sql", "dbt"]
    assert family_key("Health and fitness") == "health_and_fitness"
    assert headline_of("\n  Java Developer \u2013 APIs\nmore") == "Java Developer \u2013 APIs"


runner = CliRunner()


def test_cli_loads_an_export_and_reports_collapsed_rows(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url, "BEACON_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    source = str(shutil.copy(GLASSDOOR, tmp_path / "glassdoor.csv"))
    result = runner.invoke(app, ["data", "load", source, "--kind", "postings"], env=env)
    assert result.exit_code == 0, result.output
    assert "layout glassdoor, encoding utf-8: 9 documents, 3 duplicates collapsed" in result.output
    assert (
        "UpsertStats(inserted=9, updated=0, unchanged=0, deleted=0, collapsed=3)" in result.output
    )
    again = runner.invoke(app, ["data", "load", source, "--kind", "postings"], env=env)
    assert "UpsertStats(inserted=0, updated=0, unchanged=9" in again.output
    bad = runner.invoke(
        app, ["data", "load", str(RESUMES), "--kind", "resumes", "--encoding", "utf-8"], env=env
    )
    assert bad.exit_code == 2 and "not valid utf-8 text" in bad.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM resumes").fetchone()[0] == 0
        stored = conn.execute("SELECT count(*), count(DISTINCT description) FROM job_postings")
        assert stored.fetchone() == (9, 9)

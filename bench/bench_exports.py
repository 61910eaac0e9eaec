"""Exports benchmark: a Glassdoor-style export with ~40 % reposts and a Windows-1252 resume export.

Writes both files from hand-written text (no real people; six fields with resumes and three
neighbouring fields with postings only), loads them through the export
layouts, embeds them, and prints, before and after collapsing near-duplicates: how many slots
of each top-10 list repeat a posting already shown, and per resume field the share of top-10
titles that fit the field, with long resume text as the query and with the stored resume.
Runs on its own embedded PostgreSQL in a temporary folder. `--help` lists the knobs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from services.core.database import Database
from services.core.logging import configure_logging
from services.embeddings.encoder import get_encoder
from services.embeddings.refresh import refresh_embeddings
from services.jobs import embedding as _jobs_documents  # noqa: F401  (registers the kinds)
from services.jobs.documents import Resume
from services.jobs.exports import derived_id
from services.jobs.loaders import read_documents
from services.jobs.search import (
    SearchFilters,
    as_vector,
    recommend_by_vector,
    recommend_for_text,
)
from services.jobs.store import upsert_postings, upsert_resumes
from services.serving.settings import ServingSettings

# Per field: the titles that fit it, the companies hiring, what the job is, what it asks for,
# and what a resume in that field says. Written by hand in the voice of real ads.
FIELDS: dict[str, dict[str, list[str]]] = {
    "Data Science": {
        "titles": [
            "Data Scientist",
            "Senior Data Scientist",
            "Machine Learning Scientist",
            "Data Scientist II",
            "Lead Data Scientist",
            "Applied Scientist",
        ],
        "companies": [
            "Northwind Analytics",
            "Helix Health",
            "Contoso Retail",
            "Fabrikam Insurance",
        ],
        "duties": [
            "Build churn and lifetime-value models in Python with pandas and scikit-learn.",
            "Design and analyse A/B tests with product managers and explain the results.",
            "Write SQL against the Snowflake warehouse and automate recurring analyses.",
            "Forecast demand by region and feed the numbers into planning.",
            "Estimate causal effects of launches from observational data.",
            "Present findings to leadership with the uncertainty stated plainly.",
            "Turn notebooks into reviewed, tested pipelines that run every night.",
            "Partner with data engineers on trustworthy feature tables.",
        ],
        "asks": [
            "A degree in statistics, economics or computer science.",
            "Three or more years of applied statistics and machine learning.",
            "Fluency in Python and SQL; Tableau or Looker is a plus.",
            "Experience with experiment design, regression and hypothesis testing.",
        ],
        "resume": [
            "Data scientist with {n} years of experience in retail and insurance analytics.",
            "Built gradient-boosting churn models in Python that cut churn {p} percent.",
            "Ran more than {n}0 A/B tests on checkout flows and wrote the analysis guide.",
            "Wrote SQL and dbt models on Snowflake and dashboards in Tableau.",
            "Used survival analysis and causal inference to evaluate pricing changes.",
            "Mentored analysts on regression, sampling and presenting uncertainty.",
            "Skills \u2022 Python \u2022 pandas \u2022 scikit-learn \u2022 SQL \u2022 statistics "
            "\u2022 machine learning \u2022 A/B testing \u2022 Tableau",
        ],
    },
    "Nursing": {
        "titles": [
            "Registered Nurse",
            "ICU Registered Nurse",
            "Charge Nurse",
            "Emergency Room Nurse",
            "Senior Staff Nurse",
            "Pediatric Nurse",
        ],
        "companies": [
            "Mercy General Hospital",
            "St. Luke's Medical Center",
            "County Health System",
            "Riverside Children's Hospital",
        ],
        "duties": [
            "Provide direct patient care to critically ill adults on twelve-hour shifts.",
            "Administer medications and IV therapy and monitor the response.",
            "Complete clinical assessments and chart them in Epic electronic health records.",
            "Educate patients and families before discharge.",
            "Perform wound care and follow infection control protocols.",
            "Triage arrivals in the emergency department and escalate deteriorating patients.",
            "Coordinate care plans with physicians, therapists and pharmacists.",
            "Act as charge nurse on rotation and support newer colleagues.",
        ],
        "asks": [
            "An active RN license in the state and a BSN preferred.",
            "BLS and ACLS certification; PALS for pediatric units.",
            "Two years of acute care, ICU or emergency nursing experience.",
            "Calm judgement under pressure and clear handovers.",
        ],
        "resume": [
            "Registered nurse with {n} years in intensive care and emergency nursing.",
            "Cared for ventilated patients in a {n}-bed cardiac ICU on night shifts.",
            "Administered medications and IV therapy and charted in Epic.",
            "Led triage for up to {p} patients a shift in a busy emergency department.",
            "Trained new graduates on wound care and infection control.",
            "Educated families on discharge plans and follow-up care.",
            "Licenses \u2022 RN \u2022 BLS \u2022 ACLS \u2022 PALS \u2022 patient care "
            "\u2022 medication administration",
        ],
    },
    "Accountant": {
        "titles": [
            "Staff Accountant",
            "Senior Accountant",
            "Accounting Manager",
            "General Ledger Accountant",
            "Junior Accountant",
            "Cost Accountant",
        ],
        "companies": [
            "Bluepeak Manufacturing",
            "Litware Inc.",
            "Northwind Traders",
            "Adventure Works",
        ],
        "duties": [
            "Prepare month-end close journal entries and account reconciliations.",
            "Perform variance analysis and explain movements to the controller.",
            "Maintain fixed-asset schedules and prepaid amortisation.",
            "Support the external audit with schedules and documentation.",
            "Prepare financial reporting packages under GAAP.",
            "Reconcile intercompany balances across three entities.",
            "Improve close checklists and controls in NetSuite.",
            "Support budgeting and forecasting with the FP&A team.",
        ],
        "asks": [
            "A bachelor's degree in accounting; CPA or CPA track welcome.",
            "Two to five years of public or industry accounting.",
            "Strong GAAP knowledge and advanced Excel.",
            "Experience with NetSuite, SAP or a similar ERP.",
        ],
        "resume": [
            "Accountant with {n} years of month-end close and audit experience.",
            "Owned bank and intercompany reconciliations for {n} entities.",
            "Cut the close from nine days to {p} by rebuilding the checklist.",
            "Prepared financial reporting under GAAP and supported the external audit.",
            "Built variance analysis workbooks in Excel with pivot tables.",
            "Migrated the general ledger to NetSuite.",
            "Skills \u2022 GAAP \u2022 reconciliation \u2022 financial reporting \u2022 Excel "
            "\u2022 NetSuite \u2022 audit",
        ],
    },
    "Java Developer": {
        "titles": [
            "Software Engineer",
            "Backend Engineer",
            "Senior Software Engineer",
            "Java Developer",
            "Lead Software Engineer",
            "Platform Engineer",
        ],
        "companies": ["Cobalt Systems", "Tailspin Toys", "Proseware", "Wingtip Logistics"],
        "duties": [
            "Design REST APIs and microservices in Java and Spring Boot.",
            "Run services on Docker and Kubernetes on AWS.",
            "Keep PostgreSQL and Redis fast under peak load.",
            "Review code, write tests and keep the CI/CD pipeline green.",
            "Take part in the on-call rotation and write blameless postmortems.",
            "Stream events through Kafka between services.",
            "Instrument services with Prometheus and Grafana.",
            "Break a monolith into services without downtime.",
        ],
        "asks": [
            "Three or more years of backend development in Java or Kotlin.",
            "Distributed systems fundamentals and good testing habits.",
            "Experience with Git, Docker and a cloud provider.",
            "A degree in computer science or equivalent experience.",
        ],
        "resume": [
            "Backend developer with {n} years building Java services and APIs.",
            "Designed REST APIs and microservices in Spring Boot for payments.",
            "Moved {n} services to Docker and Kubernetes on AWS.",
            "Tuned PostgreSQL queries and added Redis caching, cutting latency {p} percent.",
            "Built Kafka consumers for order events and kept CI/CD green.",
            "On call for the checkout platform; wrote runbooks and postmortems.",
            "Skills \u2022 Java \u2022 Spring Boot \u2022 REST APIs \u2022 microservices "
            "\u2022 PostgreSQL \u2022 Docker \u2022 Kubernetes \u2022 Git",
        ],
    },
    "HR": {
        "titles": [
            "HR Generalist",
            "HR Business Partner",
            "Human Resources Manager",
            "Talent Acquisition Specialist",
            "HR Coordinator",
            "People Operations Lead",
        ],
        "companies": [
            "Summit Retail Group",
            "Wide World Importers",
            "Alpine Hotels",
            "Graphic Design Institute",
        ],
        "duties": [
            "Handle employee relations cases and investigations from intake to close.",
            "Run onboarding for new hires across several sites.",
            "Answer benefits and leave questions and keep the HRIS accurate.",
            "Process payroll changes in Workday with the payroll team.",
            "Recruit for store and office roles and coordinate interviews.",
            "Deliver compliance and anti-harassment training every quarter.",
            "Support managers through performance management cycles.",
            "Keep policies current with employment law.",
        ],
        "asks": [
            "Three or more years in a generalist HR role.",
            "Working knowledge of employment law; SHRM-CP preferred.",
            "Experience with Workday or another HRIS.",
            "Discretion and a calm manner with difficult conversations.",
        ],
        "resume": [
            "HR generalist with {n} years supporting retail and hospitality teams.",
            "Handled employee relations investigations for {n}00 employees.",
            "Rebuilt onboarding, cutting first-month attrition {p} percent.",
            "Administered payroll changes and benefits enrolment in Workday.",
            "Recruited store managers and ran career fairs.",
            "Trained managers on performance management and employment law.",
            "Skills \u2022 employee relations \u2022 recruiting \u2022 onboarding \u2022 HRIS "
            "\u2022 Workday \u2022 payroll \u2022 SHRM-CP",
        ],
    },
    "Sales": {
        "titles": [
            "Account Executive",
            "Sales Development Representative",
            "Senior Account Executive",
            "Enterprise Account Executive",
            "Sales Manager",
            "Inside Sales Representative",
        ],
        "companies": ["Contoso CRM", "Fourth Coffee", "Margie's Travel", "Trey Research"],
        "duties": [
            "Prospect into mid-market accounts with cold calling and email sequences.",
            "Run discovery calls and product demos for B2B SaaS buyers.",
            "Manage a pipeline in Salesforce and forecast it weekly.",
            "Negotiate contracts and close new business against quota.",
            "Work with customer success on expansions and renewals.",
            "Use LinkedIn Sales Navigator to map buying committees.",
            "Qualify opportunities with MEDDIC.",
            "Represent the company at trade shows.",
        ],
        "asks": [
            "Two or more years of quota-carrying B2B sales.",
            "A record of quota attainment you can show.",
            "Salesforce fluency and disciplined pipeline management.",
            "Clear presentation skills and resilience.",
        ],
        "resume": [
            "Account executive with {n} years of B2B SaaS sales.",
            "Closed {n}00 thousand dollars of new business, {p} percent over quota.",
            "Prospected with cold calling and LinkedIn Sales Navigator.",
            "Managed pipeline in Salesforce and ran weekly forecasts.",
            "Qualified deals with MEDDIC and negotiated enterprise contracts.",
            "Ran product demos and discovery calls for operations leaders.",
            "Skills \u2022 B2B sales \u2022 Salesforce \u2022 prospecting \u2022 cold calling "
            "\u2022 pipeline management \u2022 quota attainment",
        ],
    },
}
# Neighbouring fields with postings only: they share vocabulary with the fields above (SQL and
# dashboards, Excel and forecasting, Kubernetes and CI/CD), so a ranking has to tell them apart.
NEIGHBOURS: dict[str, dict[str, list[str]]] = {
    "Data Analyst": {
        "titles": [
            "Data Analyst",
            "Business Intelligence Analyst",
            "Reporting Analyst",
            "Senior Data Analyst",
        ],
        "companies": ["Contoso Retail", "Northwind Analytics", "Alpine Hotels", "Fourth Coffee"],
        "duties": [
            "Build weekly sales dashboards in Tableau and Power BI.",
            "Write SQL to answer ad-hoc questions from store operations.",
            "Clean spreadsheets and reconcile figures between systems.",
            "Define KPIs with department heads and keep them documented.",
            "Automate recurring Excel reports.",
            "Present monthly performance reviews to managers.",
        ],
        "asks": [
            "Two years of reporting or analytics work.",
            "Strong SQL and Excel; Tableau or Power BI.",
            "Attention to detail and clear writing.",
        ],
    },
    "Financial Analyst": {
        "titles": [
            "Financial Analyst",
            "FP&A Analyst",
            "Senior Financial Analyst",
            "Budget Analyst",
        ],
        "companies": ["Bluepeak Manufacturing", "Litware Inc.", "Trey Research", "Adventure Works"],
        "duties": [
            "Build the annual budget and monthly forecasts with department owners.",
            "Model scenarios for pricing and headcount in Excel.",
            "Explain variances against budget to the leadership team.",
            "Prepare board decks on revenue, margin and cash.",
            "Maintain the long-range financial model.",
            "Partner with accounting at month end on accruals.",
        ],
        "asks": [
            "A degree in finance or economics.",
            "Advanced Excel and financial modeling.",
            "Two or more years in FP&A or banking.",
        ],
    },
    "DevOps Engineer": {
        "titles": [
            "DevOps Engineer",
            "Site Reliability Engineer",
            "Cloud Engineer",
            "Infrastructure Engineer",
        ],
        "companies": ["Cobalt Systems", "Proseware", "Wingtip Logistics", "Contoso CRM"],
        "duties": [
            "Run Kubernetes clusters on AWS with Terraform and Helm.",
            "Build CI/CD pipelines and keep deploys boring.",
            "Own observability with Prometheus, Grafana and alerting.",
            "Lead incident response and write postmortems.",
            "Harden IAM and network security across accounts.",
            "Automate toil with Python and Bash.",
        ],
        "asks": [
            "Three years operating production infrastructure.",
            "Kubernetes, Terraform and one major cloud.",
            "Linux and networking fundamentals.",
        ],
    },
}
# The neighbouring field a career changer comes from, and text every resume dump repeats.
NEAR = {
    "Data Science": "Data Analyst",
    "Accountant": "Financial Analyst",
    "Java Developer": "DevOps Engineer",
}
BOILERPLATE = [
    "Education Details: Bachelor's degree, state university. Courses in statistics, economics "
    "and business communication.",
    "Soft skills: communication, teamwork, time management, MS Office, problem solving, "
    "leadership. Languages: English, Spanish. References available on request.",
]
CITIES = [
    "New York, NY",
    "Austin, TX",
    "Chicago, IL",
    "Denver, CO",
    "Boston, MA",
    "Seattle, WA",
    "Atlanta, GA",
    "Remote",
]
HEADER = [
    "index",
    "Job Title",
    "Salary Estimate",
    "Job Description",
    "Rating",
    "Company Name",
    "Location",
    "Size",
    "Industry",
    "Sector",
]


def write_exports(
    folder: Path,
    distinct_per_field: int,
    repost_share: float,
    resumes_per_field: int,
    seed: int,
    wander: float = 0.0,
) -> tuple[Path, Path, dict[str, str], dict[str, int]]:
    """The two export files, the field of every title and the ad number of every posting id
    (a repost has the number of the ad it repeats)."""
    rng = random.Random(seed)
    every_field = {**FIELDS, **NEIGHBOURS}
    field_of = {t: f for f, spec in every_field.items() for t in spec["titles"]}
    rows: list[list[str]] = []
    for field, spec in every_field.items():
        for _ in range(distinct_per_field):
            title, company = rng.choice(spec["titles"]), rng.choice(spec["companies"])
            city = rng.choice(CITIES)
            duties = rng.sample(spec["duties"], 4)
            asks = rng.sample(spec["asks"], 2)
            text = (
                f"{company} is hiring a {title} in {city}.\n\n"
                + "\n".join(f"- {d}" for d in duties)
                + "\n\nWhat we look for:\n"
                + "\n".join(f"- {a}" for a in asks)
                + "\n\nWe offer health insurance, a 401(k) match and paid time off."
            )
            low = rng.randrange(45, 120)
            salary = rng.choice([f"${low}K-${low + rng.randrange(15, 60)}K (Glassdoor est.)", "-1"])
            rating = f"{rng.uniform(2.8, 4.7):.1f}"
            rows.append(
                [title, salary, text, rating, f"{company}\n{rating}", city, "-1", "-1", field]
            )
    ads = list(range(len(rows)))
    # Reposts: the same ad in another city, half of them with a reference number added.
    n_reposts = round(len(rows) * repost_share / (1 - repost_share))
    for _ in range(n_reposts):
        ad = rng.randrange(len(every_field) * distinct_per_field)
        original = rows[ad]
        city = rng.choice([c for c in CITIES if c != original[5]])
        text = original[2].replace(f"in {original[5]}.", f"in {city}.")
        if rng.random() < 0.5:
            text += f"\nReq ID {rng.randrange(10_000, 99_999)}."
        rows.append([*original[:2], text, *original[3:5], city, *original[6:]])
        ads.append(ad)
    order = list(range(len(rows)))
    rng.shuffle(order)
    ad_of = {}
    for row, ad in zip(rows, ads, strict=True):
        company = row[4].split("\n")[0]
        ad_of[derived_id("gd", company, row[0], row[5], row[2])] = ad
    postings = folder / "glassdoor_jobs.csv"
    with postings.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows([i, *rows[j]] for i, j in enumerate(order))
    resumes = folder / "Resume.csv"
    with resumes.open("w", encoding="cp1252", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Category", "Resume"])
        for field, spec in FIELDS.items():
            for _ in range(resumes_per_field):
                n, p = rng.randrange(3, 12), rng.randrange(8, 35)
                lines = [line.format(n=n, p=p) for line in spec["resume"]]
                # Real resumes wander: a stint outside the field, interests.
                other = FIELDS[rng.choice([f for f in FIELDS if f != field])]["resume"][1]
                lines.insert(3, "Earlier: " + other.format(n=2, p=10))
                lines.append("Interests: running, chess, volunteering at the food bank.")
                # --wander: a share of the experience lines come from a neighbouring job (a
                # career changer), and every resume carries the same generic boilerplate.
                near = NEAR.get(field)
                for i in range(1, len(lines) - 2):
                    if near and rng.random() < wander:
                        lines[i] = rng.choice(NEIGHBOURS[near]["duties"])
                if wander:
                    lines.extend(BOILERPLATE)
                writer.writerow([field, "\n".join(lines)])
    return postings, resumes, field_of, ad_of


def list_figures(
    lists: list[tuple[str, list]], field_of: dict[str, str], ad_of: dict[str, int]
) -> dict:
    """Per field, the mean share of top-10 titles in the resume's field; and repeated ads."""
    shares: dict[str, list[float]] = {}
    repeated = 0
    for field, hits in lists:
        shares.setdefault(field, []).append(sum(field_of[h.title] == field for h in hits) / 10)
        ads = [ad_of[h.job_id] for h in hits]
        repeated += len(ads) - len(set(ads))
    every = [x for v in shares.values() for x in v]
    return {
        "share_top10_in_field": {f: round(statistics.mean(v), 3) for f, v in shares.items()},
        "share_top10_in_field_mean": round(statistics.mean(every), 3),
        "repeated_ads_per_list": round(repeated / len(lists), 2),
        "lists_with_a_repeat": sum(
            len({ad_of[h.job_id] for h in hits}) < len(hits) for _, hits in lists
        ),
    }


def measure(db: Database, encoder, resumes: list[tuple[str, Resume]], field_of, ad_of) -> dict:
    """Top-10 lists for every resume: from its long text (encoded now) and its stored vector."""
    by_text, by_id = [], []
    with db.connection() as conn:
        stored = dict(conn.execute("SELECT resume_id, embedding FROM resumes").fetchall())
    t0 = time.perf_counter()
    for field, resume in resumes:
        by_text.append((field, recommend_for_text(db, encoder, resume.summary, 10)))
        with db.connection() as conn:
            vector = as_vector(stored[resume.resume_id])
            by_id.append((field, recommend_by_vector(conn, vector, 10, SearchFilters())))
    seconds = time.perf_counter() - t0
    return {
        "long_text_query": list_figures(by_text, field_of, ad_of),
        "stored_resume": list_figures(by_id, field_of, ad_of),
        "lists": len(resumes),
        "text_query_seconds": round(seconds, 2),
    }


def main() -> None:
    """Write, load and embed the exports; print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distinct", type=int, default=15, help="distinct postings per field")
    parser.add_argument("--reposts", type=float, default=0.4, help="share of rows that are reposts")
    parser.add_argument("--resumes", type=int, default=3, help="resumes per field")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--wander",
        type=float,
        default=0.0,
        help="share of experience lines taken from a neighbouring field, plus shared boilerplate",
    )
    parser.add_argument("--phases", default="before,after", help="before, after or both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="beacon-bench-exports-") as home:
        settings = ServingSettings(home=Path(home), log_format="text", log_level="WARNING")
        configure_logging(settings)
        postings_file, resumes_file, field_of, ad_of = write_exports(
            Path(home), args.distinct, args.reposts, args.resumes, args.seed, args.wander
        )
        t0 = time.perf_counter()
        postings = read_documents(postings_file, "postings")
        resumes = read_documents(resumes_file, "resumes")
        read_seconds = time.perf_counter() - t0
        everything = read_documents(postings_file, "postings", collapse_duplicates=False)
        kept_ads = {ad_of[p.job_id] for p in postings.documents}
        figures: dict = {
            "export": {
                "rows": len(everything.documents),
                "collapsed": len(postings.collapsed),
                "collapsed_share": round(len(postings.collapsed) / len(everything.documents), 3),
                "postings_kept": len(postings.documents),
                "distinct_ads": len(set(ad_of.values())),
                "ads_kept_once": len(kept_ads)
                == len(postings.documents)
                == len(set(ad_of.values())),
                "resumes": len(resumes.documents),
                "resume_encoding": resumes.encoding,
                "read_seconds": round(read_seconds, 3),
            }
        }
        print(json.dumps(figures["export"], indent=2), flush=True)
        labels = {f.lower().replace(" ", "_"): f for f in FIELDS}
        labelled = [(labels[r.role_family], r) for r in resumes.documents]
        encoder = get_encoder(settings)
        with Database.from_settings(settings) as db:
            phases = (("before", everything), ("after", postings))
            for phase, documents in [p for p in phases if p[0] in args.phases.split(",")]:
                with db.connection() as conn:
                    upsert_postings(conn, documents.documents, replace=True)
                    upsert_resumes(conn, resumes.documents)
                t0 = time.perf_counter()
                embedded = refresh_embeddings(db, encoder, settings).embedded
                embed_seconds = round(time.perf_counter() - t0, 1)
                figures[phase] = measure(db, encoder, labelled, field_of, ad_of)
                figures[phase].update(embedded_documents=embedded, embed_seconds=embed_seconds)
                print(json.dumps({f"{phase}_collapsing": figures[phase]}, indent=2), flush=True)


if __name__ == "__main__":
    main()

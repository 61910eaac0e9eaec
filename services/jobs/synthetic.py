"""Synthetic job postings and resumes: a deterministic generator over the jobs vocabulary."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from services.jobs.documents import SENIORITY_LEVELS, JobPosting, Resume
from services.jobs.vocabulary import City, Family, families, vocabulary

# Dates hang off a fixed day so the same seed gives the same corpus on any day.
BASE_DATE = date(2025, 6, 30)
POSTING_WINDOW_DAYS = 180

FAMILIES: tuple[Family, ...] = families()
ROLE_FAMILIES: tuple[str, ...] = tuple(f.key for f in FAMILIES)
_FAMILY_BY_KEY = {f.key: f for f in FAMILIES}
_VOCAB = vocabulary()

# Seniority mix of postings: most openings are mid or senior.
_POSTING_SENIORITY_WEIGHTS = (0.05, 0.15, 0.3, 0.3, 0.12, 0.08)
_SALARY_FACTOR = {
    "intern": 0.35,
    "junior": 0.7,
    "mid": 1.0,
    "senior": 1.3,
    "lead": 1.5,
    "principal": 1.75,
}
_YEARS = {
    "intern": (0, 1),
    "junior": (0, 2),
    "mid": (2, 5),
    "senior": (5, 9),
    "lead": (8, 14),
    "principal": (12, 25),
}
# Every level has a visible marker, so a reader (and the retrieval) can tell levels apart.
_TITLE_FORMS: dict[str, tuple[str, ...]] = _VOCAB["title_forms"]
CITIES: tuple[City, ...] = _VOCAB["cities"]
_COUNTRY_COST = {
    country: sum(c.cost for c in CITIES if c.country == country)
    / sum(1 for c in CITIES if c.country == country)
    for country in dict.fromkeys(c.country for c in CITIES)
}
# Company names are composed: a root from two halves, then a sector-specific ending.
_NAME_HEADS: tuple[str, ...] = _VOCAB["company_name_heads"]
_NAME_TAILS: tuple[str, ...] = _VOCAB["company_name_tails"]
_SECTOR_ENDINGS: dict[str, tuple[str, ...]] = _VOCAB["sector_endings"]
_SURNAMES: tuple[str, ...] = _VOCAB["law_firm_surnames"]
_SECTOR_ROSTER_SIZE = {
    "tech": 140,
    "finance": 50,
    "retail": 40,
    "healthcare": 50,
    "logistics": 25,
    "law": 25,
}
_PRODUCTS: dict[str, tuple[str, ...]] = _VOCAB["products"]
_ABOUT: dict[str, tuple[str, ...]] = _VOCAB["about"]
_MISSION: tuple[str, ...] = _VOCAB["mission"]
_ROLE_OPENERS: tuple[str, ...] = _VOCAB["role_openers"]
_BENEFITS: tuple[str, ...] = _VOCAB["benefits"]
_FIRST_NAMES: tuple[str, ...] = _VOCAB["first_names"]
_LAST_NAMES: tuple[str, ...] = _VOCAB["last_names"]
_GOALS: tuple[str, ...] = _VOCAB["goals"]
_SENIOR_GOALS: tuple[str, ...] = _VOCAB["senior_goals"]
_NOISE_SKILLS: tuple[str, ...] = _VOCAB["noise_skills"]
_WORD_BOUNDS = (120, 300)
# Where career changers come from: moves people really make between neighbouring jobs.
_NEIGHBOURS: dict[str, tuple[str, ...]] = _VOCAB["neighbours"]


@dataclass(frozen=True)
class Company:
    """A hiring company with the facts its postings repeat consistently."""

    name: str
    sector: str
    city: City
    size: int
    founded: int
    product: str
    markets: int


@dataclass
class Corpus:
    """A generated set of postings and resumes."""

    postings: list[JobPosting]
    resumes: list[Resume]


def generate_corpus(
    n_postings: int = 5000, n_resumes: int = 1000, seed: int = 7, *, career_changers: float = 0.0
) -> Corpus:
    """Generate postings and resumes; the same arguments always give the same corpus.

    Postings and resumes draw from separate random streams, so the resumes for a seed do not
    change with the number of postings (and vice versa). `career_changers` is the share of
    resumes whose past experience lies in a neighbouring family while they target (and are
    labelled with) another one: hard cases that make retrieval quality less of a formality.
    """
    if n_postings < 0 or n_resumes < 0:
        raise ValueError("corpus sizes must not be negative")
    if not 0.0 <= career_changers <= 1.0:
        raise ValueError("career_changers must be between 0 and 1")
    companies = _company_roster(random.Random(f"{seed}:companies"))
    by_sector: dict[str, list[Company]] = {}
    for company in companies:
        by_sector.setdefault(company.sector, []).append(company)
    posting_rng = random.Random(f"{seed}:postings")
    postings = [
        _posting(posting_rng, i + 1, family, by_sector)
        for i, family in enumerate(_family_sequence(posting_rng, n_postings))
    ]
    resume_rng = random.Random(f"{seed}:resumes")
    resumes = [
        _resume(resume_rng, i + 1, family, companies, career_changers)
        for i, family in enumerate(_family_sequence(resume_rng, n_resumes))
    ]
    return Corpus(postings=postings, resumes=resumes)


def write_corpus(corpus: Corpus, folder: Path | str) -> tuple[Path, Path]:
    """Write `postings.jsonl` and `resumes.jsonl` (the loader's format) into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "postings.jsonl", folder / "resumes.jsonl")
    for path, docs in zip(paths, (corpus.postings, corpus.resumes), strict=True):
        with path.open("w", encoding="utf-8") as out:
            for doc in docs:
                out.write(json.dumps(doc.model_dump(mode="json"), ensure_ascii=False))
                out.write("\n")
    return paths


def _company_roster(rng: random.Random) -> list[Company]:
    roots = [head + tail for head in _NAME_HEADS for tail in _NAME_TAILS]
    rng.shuffle(roots)
    taken: set[str] = set()
    companies: list[Company] = []
    for sector, count in _SECTOR_ROSTER_SIZE.items():
        made = 0
        while made < count:
            if sector == "law":
                first, second = rng.sample(_SURNAMES, 2)
                name = f"{first} & {second} LLP"
            else:
                ending = rng.choice(_SECTOR_ENDINGS[sector])
                name = f"{roots.pop()} {ending}".strip()
            if name in taken:
                continue
            taken.add(name)
            made += 1
            companies.append(
                Company(
                    name=name,
                    sector=sector,
                    city=rng.choice(CITIES),
                    size=rng.choice((12, 25, 40, 80, 150, 300, 600, 1200, 2500, 8000)),
                    founded=rng.randint(1965, 2021),
                    product=rng.choice(_PRODUCTS[sector]),
                    markets=rng.randint(3, 40),
                )
            )
    return companies


def _family_sequence(rng: random.Random, n: int) -> list[Family]:
    """Families for n documents: each family at least once when n allows, then by weight."""
    base = list(FAMILIES[:n])
    rest = rng.choices(FAMILIES, weights=[f.weight for f in FAMILIES], k=n - len(base))
    sequence = base + rest
    rng.shuffle(sequence)
    return sequence


def _title(rng: random.Random, family: Family, seniority: str, *, with_team: bool) -> str:
    # "Software Engineer, Backend" takes its level on the part before the comma.
    head, _, specialty = rng.choice(family.titles).partition(", ")
    title = rng.choice(_TITLE_FORMS[seniority]).format(t=head)
    if specialty:
        title = f"{title}, {specialty}"
    elif with_team and rng.random() < 0.3:
        title = f"{title}, {rng.choice(family.teams)}"
    return title


def _pick_skills(rng: random.Random, family: Family, n_core: int, n_optional: int) -> list[str]:
    skills = rng.sample(family.core_skills, min(n_core, len(family.core_skills)))
    skills += rng.sample(family.optional_skills, min(n_optional, len(family.optional_skills)))
    return skills


def _salary(rng: random.Random, family: Family, seniority: str, cost: float) -> tuple[int, int]:
    low = family.salary * _SALARY_FACTOR[seniority] * cost * rng.uniform(0.9, 1.1)
    high = low * rng.uniform(1.12, 1.35)
    return round(low, -3), round(high, -3)


def _posting(
    rng: random.Random, number: int, family: Family, by_sector: dict[str, list[Company]]
) -> JobPosting:
    sector = _weighted_sector(rng, family)
    company = rng.choice(by_sector[sector])
    seniority = rng.choices(SENIORITY_LEVELS, weights=_POSTING_SENIORITY_WEIGHTS)[0]
    remote = rng.random() < family.remote_rate
    # Most postings are at the head office; some at another office; remote ones name a country.
    city = company.city if rng.random() < 0.6 else rng.choice(CITIES)
    if remote:
        location, cost = city.country, _COUNTRY_COST[city.country]
    else:
        location, cost = city.label, city.cost
    title = _title(rng, family, seniority, with_team=True)
    skills = _pick_skills(rng, family, rng.randint(4, 6), rng.randint(1, 3))
    has_salary = rng.random() < 0.88
    salary_min, salary_max = _salary(rng, family, seniority, cost) if has_salary else (None, None)
    description = _description(rng, family, company, title, seniority, skills, remote, city)
    return JobPosting(
        job_id=f"job-{number:06d}",
        title=title,
        company=company.name,
        location=location,
        remote=remote,
        seniority=seniority,
        role_family=family.key,
        skills=skills,
        salary_min=salary_min,
        salary_max=salary_max,
        description=description,
        posted_at=BASE_DATE - timedelta(days=rng.randrange(POSTING_WINDOW_DAYS)),
    )


def _weighted_sector(rng: random.Random, family: Family) -> str:
    # The first sector listed is the family's main employer; the rest share what is left.
    weights = [3.0] + [1.0] * (len(family.sectors) - 1)
    return rng.choices(family.sectors, weights=weights)[0]


def _description(
    rng: random.Random,
    family: Family,
    company: Company,
    title: str,
    seniority: str,
    skills: list[str],
    remote: bool,
    city: City,
) -> str:
    about = rng.choice(_ABOUT[company.sector]).format(
        company=company.name,
        product=company.product,
        city=company.city.name,
        size=f"{company.size:,}",
        founded=company.founded,
        markets=company.markets,
    )
    about += " " + rng.choice(_MISSION)
    opener = rng.choice(_ROLE_OPENERS).format(
        a_title=_with_article(title), team=rng.choice(family.teams)
    )
    duties = rng.sample(family.duties, len(family.duties))
    n_duties = rng.randint(3, 5)
    requirements = _requirements(rng, family, seniority, skills)
    optional = [s for s in family.optional_skills if s not in skills]
    nice = ""
    if optional and rng.random() < 0.6:
        extra = rng.sample(optional, min(2, len(optional)))
        nice = f"Nice to have: experience with {' or '.join(extra)}. " + rng.choice(
            (
                "If you do not tick every box, apply anyway; we care most about how you think.",
                "None of these are required on day one.",
                "We will help you learn what you have not used yet.",
            )
        )
    benefits = ""
    if rng.random() < 0.85:
        where = (
            f"This role is fully remote within {city.country}, with a team meetup twice a year."
            if remote
            else f"This role is based in {city.name}, with {rng.randint(2, 4)} office days a week."
        )
        benefits = " ".join([where, *rng.sample(_BENEFITS, rng.randint(2, 3))])

    def compose(k: int) -> str:
        role = opener + " " + " ".join(duties[:k])
        return "\n\n".join(p for p in (about, role, requirements, nice, benefits) if p)

    text = compose(n_duties)
    # Keep every description within the word budget by trading duty sentences.
    while len(text.split()) < _WORD_BOUNDS[0] and n_duties < len(duties):
        n_duties += 1
        text = compose(n_duties)
    while len(text.split()) > _WORD_BOUNDS[1] and n_duties > 2:
        n_duties -= 1
        text = compose(n_duties)
    return text


def _requirements(rng: random.Random, family: Family, seniority: str, skills: list[str]) -> str:
    focus = rng.choice(family.focus)
    low = _YEARS[seniority][0]
    years = {
        "intern": f"You are studying towards a degree or have just finished one, "
        f"and you are curious about {focus}.",
        "junior": f"You have up to two years of experience, from a first job or internships, "
        f"with {focus}.",
        "mid": f"You have {max(low, 2)}+ years of hands-on experience with {focus}.",
        "senior": f"You have {low}+ years of experience with {focus} and have owned work "
        f"end to end.",
        "lead": f"You have {low}+ years of experience with {focus}, including leading a team "
        f"or a major project.",
        "principal": f"You have {low}+ years of experience with {focus} and a record of setting "
        f"direction across several teams.",
    }[seniority]
    first, second, third = (skills + skills)[:3]
    tools = rng.choice(
        (
            f"You are fluent in {first} and {second}, and comfortable with {third}.",
            f"You have used {first}, {second} and {third} in real projects.",
            f"Day to day you will use {first}, {second} and {third}.",
        )
    )
    picked = rng.sample(family.requirements, rng.randint(2, 3))
    return " ".join(["What we are looking for:", years, tools, *picked])


def _fill(rng: random.Random, sentence: str) -> str:
    return sentence.format(n=rng.randint(3, 40), pct=rng.randint(8, 45))


def _resume(
    rng: random.Random,
    number: int,
    family: Family,
    companies: list[Company],
    career_changers: float,
) -> Resume:
    past = family
    # Drawn only when asked for, so corpora without career changers stay exactly as they were.
    if career_changers and rng.random() < career_changers:
        past = _FAMILY_BY_KEY[rng.choice(_NEIGHBOURS[family.key])]
    seniority = rng.choices(SENIORITY_LEVELS, weights=(0.04, 0.18, 0.32, 0.28, 0.11, 0.07))[0]
    low, high = _YEARS[seniority]
    years = rng.randint(low, high)
    city = rng.choice(CITIES)
    own, skills = _resume_skills(rng, family, past)
    title = _title(rng, family, seniority, with_team=False)
    headline, opener = _resume_intro(rng, family, past, title, years, own, companies)
    achievements = [_fill(rng, s) for s in rng.sample(past.experience, rng.randint(2, 4))]
    paragraphs = [" ".join([opener, *achievements])]
    if rng.random() < 0.6:
        tools = ", ".join(own[:-1]) + f" and {own[-1]}"
        goals = _SENIOR_GOALS if seniority in ("senior", "lead", "principal") else _GOALS
        paragraphs.append(f"Day to day I work with {tools}. {rng.choice(goals)}")
    return Resume(
        resume_id=f"res-{number:06d}",
        name=f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}",
        headline=headline,
        summary="\n\n".join(paragraphs),
        skills=skills,
        years_experience=years,
        location=city.label,
        seniority=seniority,
        role_family=family.key,
    )


def _resume_skills(rng: random.Random, family: Family, past: Family) -> tuple[list[str], list[str]]:
    """(the skills of the person's own work, the skills their resume lists)."""
    if past is family:
        own = _pick_skills(rng, family, rng.randint(4, 7), rng.randint(1, 4))
    else:
        own = _pick_skills(rng, past, rng.randint(3, 5), 1) + _pick_skills(rng, family, 2, 1)
    skills = list(own)
    # Real resumes list a few skills from elsewhere: a neighbour's stack or general tools.
    for _ in range(rng.choices((0, 1, 2), weights=(0.45, 0.4, 0.15))[0]):
        if rng.random() < 0.5:
            other = _FAMILY_BY_KEY[rng.choice(ROLE_FAMILIES)]
            skills.append(rng.choice(other.core_skills + other.optional_skills))
        else:
            skills.append(rng.choice(_NOISE_SKILLS))
    skills = list(dict.fromkeys(skills))[:12]
    return own, skills


def _resume_intro(
    rng: random.Random,
    family: Family,
    past: Family,
    title: str,
    years: int,
    own: list[str],
    companies: list[Company],
) -> tuple[str, str]:
    """(headline, opening sentence): a career changer's say where they come from."""
    base_title = rng.choice(family.titles).partition(", ")[0]
    focus = rng.choice(family.focus)
    headline = rng.choice(
        (
            title,
            f"{title} | {', '.join(_display_skill(s) for s in own[:3])}",
            f"{base_title} focused on {focus}",
            f"{title} with {_years(years)} of experience" if years > 1 else title,
        )
    )
    employer = rng.choice(companies).name
    if years == 0:
        opener = rng.choice(
            (
                f"Recent graduate looking for a first role in {focus}.",
                f"Final-year student with internship experience in {focus}, "
                f"most recently at {employer}.",
            )
        )
    else:
        opener = rng.choice(
            (
                f"{base_title} with {_years(years)} of experience in {focus}.",
                f"I have spent {_years(years)} working on {focus}, most recently at {employer}.",
                f"{_years(years).capitalize()} as {_with_article(base_title)}, currently at "
                f"{employer}, where I work on {focus}.",
            )
        )
    if past is not family:
        past_title = rng.choice(past.titles).partition(", ")[0]
        background = f"{_years(years).capitalize()} as" if years else "An internship as"
        opener = f"{background} {_with_article(past_title)}, now moving into {focus}."
        headline = rng.choice(
            (f"{past_title} moving into {focus}", f"{past_title}, retraining as {base_title}")
        )
    return headline, opener


def _years(n: int) -> str:
    return "one year" if n == 1 else f"{n} years"


_ACRONYMS = frozenset(
    "sql aws gcp css html etl iam siem seo crm hris gaap ifrs sap cpa bls acls "
    "gdpr nlp llms ios api iv icu r".split()
)


def _display_skill(skill: str) -> str:
    """A skill as a person would type it in a headline: SQL, A/B testing, Python."""
    if skill in _ACRONYMS:
        return skill.upper()
    if skill == "a/b testing":
        return "A/B testing"
    return skill[0].upper() + skill[1:]


def _with_article(title: str) -> str:
    """'an ML Engineer', 'a UX Designer', 'an iOS Engineer': by sound, not by letter."""
    first = title.split()[0]
    if first.isupper() or "&" in first:
        vowel_sound = first[0] in "AEFHILMNORSX"
    else:
        vowel_sound = first[0].lower() in "aeiou"
    return f"{'an' if vowel_sound else 'a'} {title}"

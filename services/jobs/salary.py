"""Parse salary strings from job-board exports ("$53K-$91K (Glassdoor est.)") into yearly ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Cells that mean "not given" in exports: Glassdoor writes -1, spreadsheets N/A or nothing.
UNKNOWN_MARKERS = frozenset(
    {"", "-1", "-", "--", "n/a", "na", "nan", "none", "null", "unknown", "not specified"}
)

#: Hours, days, weeks and months in a working year, to turn a rate into a yearly amount
#: (40 h x 52 weeks; 5 days x 52 weeks).
PERIODS_PER_YEAR = {"hour": 2080, "day": 260, "week": 52, "month": 12, "year": 1}

_PERIOD_WORDS = (
    ("hour", r"per\s*hour|an\s*hour|/\s*h(?:ou)?r\b|/\s*h\b|hourly|\bhr\b"),
    ("day", r"per\s*day|a\s*day|/\s*day\b|daily"),
    ("week", r"per\s*week|a\s*week|/\s*w(?:ee)?k\b|weekly"),
    ("month", r"per\s*month|a\s*month|/\s*mo(?:nth)?\b|monthly"),
    ("year", r"per\s*(?:year|annum)|a\s*year|/\s*y(?:ea)?r\b|yearly|annual(?:ly)?|p\.?a\.?\b"),
)
_PERIOD_PATTERNS = tuple((name, re.compile(p, re.IGNORECASE)) for name, p in _PERIOD_WORDS)

# Longest first, so "US$" is not read as "$" and "CA$" not as "A$".
_CURRENCIES = (
    ("US$", "USD"),
    ("CA$", "CAD"),
    ("C$", "CAD"),
    ("AU$", "AUD"),
    ("A$", "AUD"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("₹", "INR"),
    ("¥", "JPY"),
    ("CHF", "CHF"),
)
_ISO_CODE = re.compile(r"\b(USD|EUR|GBP|CAD|AUD|INR|JPY|CHF|SEK|NOK|DKK|PLN|NZD|SGD)\b", re.I)
# A number with optional thousands separators or decimals, and an optional K/M suffix.
_AMOUNT = re.compile(r"(\d[\d.,]*)\s*([kKmM](?![a-zA-Z]))?")
# Hyphen, en dash, em dash or "to".
_RANGE_SEPARATOR = re.compile(r"^\s*(?:-|\u2013|\u2014|to)\s*$", re.IGNORECASE)


class SalaryError(ValueError):
    """A salary cell that holds something, but not a salary Beacon can read."""


@dataclass(frozen=True)
class SalaryRange:
    """A yearly salary range (amounts in `currency`, never converted)."""

    minimum: int
    maximum: int
    currency: str | None
    period: str


def is_unknown(cell: str | None) -> bool:
    """True for an empty cell or one of the export's "not given" markers."""
    return cell is None or cell.strip().lower() in UNKNOWN_MARKERS


def parse_salary(cell: str | None, *, period: str | None = None) -> SalaryRange | None:
    """The yearly range a salary cell states; None for an unknown marker or a cell without digits.

    `period` (hour, day, week, month, year) applies when the text names none, e.g. a separate
    pay-period column; otherwise the amount is taken as yearly. Raises SalaryError (a message
    without the cell's value) when the text is not a salary.
    """
    if is_unknown(cell):
        return None
    assert cell is not None
    # Glassdoor's "(Glassdoor est.)" / "(Employer est.)" notes carry no amount.
    text = re.sub(r"\([^)]*\)", " ", cell).strip()
    named = _period_in(text)
    unit = named or (period or "year").lower()
    if unit not in PERIODS_PER_YEAR:
        raise SalaryError(f"unknown pay period (expected one of {', '.join(PERIODS_PER_YEAR)})")
    currency = _currency_in(text)
    if not any(c.isdigit() for c in text):
        return None  # "Competitive", "DOE": no amount is stated
    amounts = _amounts(text)
    if len(amounts) > 2:
        raise SalaryError("expected an amount or a range such as $53K-$91K")
    factor = PERIODS_PER_YEAR[unit]
    low, high = (amounts[0], amounts[-1])
    if low > high:
        raise SalaryError("the lower end of the range exceeds the upper end")
    return SalaryRange(round(low * factor), round(high * factor), currency, unit)


def _period_in(text: str) -> str | None:
    for name, pattern in _PERIOD_PATTERNS:
        if pattern.search(text):
            return name
    return None


def _currency_in(text: str) -> str | None:
    for symbol, code in _CURRENCIES:
        if symbol in text:
            return code
    match = _ISO_CODE.search(text)
    return match.group(1).upper() if match else None


def _amounts(text: str) -> list[float]:
    """The one or two amounts of `text`; a suffix on the upper end alone applies to both
    ("53-91K"), since nobody writes a range from 53 dollars to 91 thousand."""
    found = list(_AMOUNT.finditer(text))
    if len(found) == 2 and not _RANGE_SEPARATOR.match(_between(text, found[0], found[1])):
        raise SalaryError("two amounts that do not form a range")
    values, suffixes = [], []
    for match in found:
        values.append(_number(match.group(1)))
        suffixes.append((match.group(2) or "").lower())
    if len(values) == 2 and suffixes[0] == "" and suffixes[1]:
        suffixes[0] = suffixes[1]
    scale = {"": 1, "k": 1_000, "m": 1_000_000}
    return [v * scale[s] for v, s in zip(values, suffixes, strict=True)]


def _between(text: str, first: re.Match[str], second: re.Match[str]) -> str:
    # Currency symbols and codes sit between the amounts of "$53K - $91K" or "53K USD - 91K".
    middle = text[first.end() : second.start()]
    for symbol, _ in _CURRENCIES:
        middle = middle.replace(symbol, " ")
    return _ISO_CODE.sub(" ", middle)


def _number(digits: str) -> float:
    """53,000 / 53.000 / 53,5 / 53.5: groups of exactly three digits after a separator are
    thousands; anything else after the last separator is a decimal part."""
    digits = digits.rstrip(".,")
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", digits):
        return float(re.sub(r"[.,]", "", digits))
    if re.fullmatch(r"\d+(?:[.,]\d+)?", digits):
        return float(digits.replace(",", "."))
    raise SalaryError("the amount is not a number")

"""Read an item-metadata file: MovieLens `u.item` / `movies.csv`, or the generic item CSV.

Layouts, told apart by the first line:
- MovieLens 100K `u.item`: `id|title|release date|video release date|IMDb URL|` and 19 genre
  flags, no header, usually latin-1;
- a CSV with a header: `id,title` and optionally `text`, `tags`, `city`, `time` (aliases:
  MovieLens `movies.csv`'s `movieId,title,genres`, and `item_id`, `event_id`, `description`,
  `genre`, `starts_at`). Tags are separated by `|` or `;`. A time is Unix seconds or ISO 8601;
  an item without one is always recommendable (films), one with it only before it starts.
Any encoding (see textfile.py). The whole file is validated before anything is returned, and
errors name the line and column without echoing cell values.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from services.core.errors import InputError
from services.recommender.data import embedding_text
from services.recommender.loader import MAX_REPORTED_ERRORS, parse_timestamp, refuse_bad_rows
from services.recommender.textfile import read_text

#: MovieLens 100K genre flags, in `u.genre` order.
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
_ALIASES = {
    "id": ("id", "item", "item_id", "itemid", "event_id", "movieid", "movie_id"),
    "title": ("title", "name"),
    "text": ("text", "description", "overview"),
    "tags": ("tags", "genres", "genre", "categories"),
    "city": ("city",),
    "time": ("time", "starts_at", "start", "date"),
}
_NO_TAGS = {"(no genres listed)"}
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f]")
MAX_ID, MAX_TITLE, MAX_TEXT, MAX_CITY = 128, 500, 20_000, 100


@dataclass(frozen=True)
class CatalogueItem:
    """One recommendable item: what it is, and optionally where and when."""

    item_id: str
    title: str
    text: str
    tags: str | None
    city: str | None = None
    starts_at: datetime | None = None

    @property
    def content_hash(self) -> str:
        """SHA-256 of the embedded text: the refresh skips items whose text is unchanged."""
        text = embedding_text(self.title, self.tags, self.city, None, self.text)
        return hashlib.sha256(text.encode()).hexdigest()


def load_items(path: Path | str, encoding: str | None = None) -> tuple[list[CatalogueItem], str]:
    """(items, encoding used) of a whole item file; InputError naming every bad line."""
    path = Path(path)
    text, used = read_text(path, encoding)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InputError(f"{path.name}: the file is empty")
    if _is_u_item(lines[0]):
        rows = [line.split("|") for line in lines]
        records, problems = _u_item(rows)
    else:
        rows = list(csv.reader(io.StringIO(text, newline="")))
        records, problems = _csv(path.name, rows)
    items: list[CatalogueItem] = []
    first_line: dict[str, int] = {}
    for line, record in records:
        errors = _check(record)
        if record.get("id") in first_line:
            errors.append(("id", f"duplicate of line {first_line[record['id']]}"))
        problems.extend(f"line {line}, column {col!r}: {msg}" for col, msg in errors)
        if not errors:
            first_line[record["id"]] = line
            items.append(_item(record))
        if len(problems) > MAX_REPORTED_ERRORS:
            break
    refuse_bad_rows(path.name, problems)
    if not items:
        raise InputError(f"{path.name}: no items in the file")
    return items, used


def _is_u_item(first: str) -> bool:
    cells = first.split("|")
    return len(cells) >= 5 + len(ML100K_GENRES) and cells[0].strip().isdigit()


def _u_item(rows: list[list[str]]) -> tuple[list[tuple[int, dict]], list[str]]:
    records, problems = [], []
    width = 5 + len(ML100K_GENRES)
    for line, cells in enumerate(rows, start=1):
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != width:
            problems.append(f"line {line}: expected {width} |-separated fields, found {len(cells)}")
            continue
        flags = cells[5:]
        bad = [ML100K_GENRES[n] for n, f in enumerate(flags) if f.strip() not in ("0", "1")]
        if bad:
            problems.append(f"line {line}, column {bad[0]!r}: genre flag must be 0 or 1")
            continue
        tags = [g for g, f in zip(ML100K_GENRES, flags, strict=True) if f.strip() == "1"]
        tags = [t for t in tags if t != "unknown"]
        records.append((line, {"id": cells[0].strip(), "title": cells[1].strip(), "tags": tags}))
    return records, problems


def _csv(name: str, rows: list[list[str]]) -> tuple[list[tuple[int, dict]], list[str]]:
    header = []
    for raw in rows[0]:
        key = raw.strip().lower()
        header.append(next((c for c, names in _ALIASES.items() if key in names), f"?{key}"))
    missing = [c for c in ("id", "title") if c not in header]
    if missing:
        raise InputError(
            f"{name}: line 1 (header) lacks column(s): {', '.join(missing)}; expected "
            "id,title[,text][,tags][,city][,time] or MovieLens movieId,title,genres"
        )
    records, problems = [], []
    for line, cells in enumerate(rows[1:], start=2):
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(f"line {line}: expected {len(header)} columns, found {len(cells)}")
            continue
        record: dict = {c: v.strip() for c, v in zip(header, cells, strict=True) if c[0] != "?"}
        tags = re.split(r"[|;]", record.get("tags", ""))
        record["tags"] = [t.strip() for t in tags if t.strip() and t.strip() not in _NO_TAGS]
        records.append((line, record))
    return records, problems


def _check(record: dict) -> list[tuple[str, str]]:
    errors = []
    limits = {"id": MAX_ID, "title": MAX_TITLE, "text": MAX_TEXT, "city": MAX_CITY}
    for column, limit in limits.items():
        value = record.get(column, "")
        if column in ("id", "title") and not value:
            errors.append((column, "empty"))
        elif len(value) > limit:
            errors.append((column, f"longer than {limit} characters"))
        elif "\x00" in value or (column != "text" and _BAD_CHARS.search(value)):
            errors.append((column, "contains control characters"))
    if any("\x00" in t or _BAD_CHARS.search(t) for t in record.get("tags", [])):
        errors.append(("tags", "contains control characters"))
    if record.get("time") and parse_timestamp(record["time"]) is None:
        errors.append(("time", "not Unix seconds or an ISO 8601 date-time"))
    return errors


def _item(record: dict) -> CatalogueItem:
    time = record.get("time")
    return CatalogueItem(
        item_id=record["id"],
        title=record["title"],
        text=record.get("text", ""),
        tags=", ".join(record["tags"]) or None,
        city=record.get("city") or None,
        starts_at=parse_timestamp(time) if time else None,
    )

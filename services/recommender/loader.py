"""Read a user's interaction file (`user,item,action|rating,timestamp`, MovieLens layouts too).

Accepted layouts, told apart by the first line:
- CSV with a header naming user, item, action or rating, and timestamp columns (aliases such as
  `userId`/`movieId` from MovieLens `ratings.csv` are accepted);
- MovieLens `ratings.dat` (`user::item::rating::timestamp`) and `u.data` (tab-separated), which
  have no header.
Timestamps are Unix seconds or ISO 8601 (naive means UTC); any encoding (textfile.py). The
whole file is validated before anything is returned, and errors name the line and column
without echoing cell values.
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from services.core.errors import InputError
from services.recommender.data import ACTION_WEIGHTS
from services.recommender.textfile import read_text

MAX_REPORTED_ERRORS = 20


def refuse_bad_rows(name: str, problems: list[str]) -> None:
    """Raise one InputError listing the first bad rows of file `name`; nothing is loaded."""
    if problems:
        shown = problems[:MAX_REPORTED_ERRORS]
        more = "" if len(problems) <= MAX_REPORTED_ERRORS else " (more not shown)"
        raise InputError(
            f"{name}: {len(shown)} bad row(s){more}, nothing loaded:\n  " + "\n  ".join(shown)
        )


MAX_ID = 128  # the API's id limit: a longer id could never be asked for
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
RATING_MAX = 10.0
_ALIASES = {
    "user": ("user", "user_id", "userid"),
    "item": ("item", "item_id", "itemid", "event_id", "eventid", "movieid", "movie_id"),
    "action": ("action", "event_type"),
    "rating": ("rating", "score"),
    "timestamp": ("timestamp", "occurred_at", "time", "ts"),
}
_HEADERLESS = ("user", "item", "rating", "timestamp")


def rating_weight(rating: float) -> float:
    """Implicit strength of an explicit rating: r - 1, so a 4 or 5 counts like a save (>= 3)."""
    return max(rating - 1.0, 0.0)


def load_interactions(path: Path | str, encoding: str | None = None) -> pd.DataFrame:
    """Parse and validate a whole file into (user_id, event_id, action, weight, occurred_at).

    Any encoding (given, or detected: see textfile.py). Raises InputError naming every bad
    line and column (up to MAX_REPORTED_ERRORS).
    """
    path = Path(path)
    text, _ = read_text(path, encoding)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InputError(f"{path.name}: the file is empty")
    first = lines[0]
    if "::" in first:
        rows = [line.split("::") for line in lines]
        columns, start = list(_HEADERLESS), 1
    elif "\t" in first:
        rows = [line.split("\t") for line in lines]
        columns, start = list(_HEADERLESS), 1
    else:
        rows = list(csv.reader(io.StringIO(text)))
        columns, start = _header(path.name, rows[0]), 2
        rows = rows[1:]
    return _parse(path.name, rows, columns, start)


def _header(name: str, header: list[str]) -> list[str]:
    out = []
    for raw in header:
        key = raw.strip().lower()
        canonical = next((c for c, names in _ALIASES.items() if key in names), None)
        out.append(canonical or f"ignored:{key}")
    missing = [c for c in ("user", "item", "timestamp") if c not in out]
    if "action" not in out and "rating" not in out:
        missing.append("action or rating")
    if missing:
        raise InputError(
            f"{name}: line 1 (header) lacks column(s): {', '.join(missing)}; expected "
            "user,item,action|rating,timestamp"
        )
    return out


def _parse(name: str, rows: list[list[str]], columns: list[str], first_line: int) -> pd.DataFrame:
    problems: list[str] = []
    out: dict[str, list] = {k: [] for k in ("user_id", "event_id", "action", "weight", "ts")}
    for offset, cells in enumerate(rows):
        line = first_line + offset
        if not cells or all(not c.strip() for c in cells):
            continue  # blank lines (a trailing newline) carry nothing
        if len(cells) != len(columns):
            problems.append(f"line {line}: expected {len(columns)} columns, found {len(cells)}")
            continue
        record = {c: v.strip() for c, v in zip(columns, cells, strict=True)}
        errors = _row(record, out)
        problems.extend(f"line {line}, column {col!r}: {msg}" for col, msg in errors)
        if len(problems) > MAX_REPORTED_ERRORS:
            break
    refuse_bad_rows(name, problems)
    if not out["user_id"]:
        raise InputError(f"{name}: no interactions in the file")
    frame = pd.DataFrame(
        {
            "user_id": out["user_id"],
            "event_id": out["event_id"],
            "action": out["action"],
            "weight": out["weight"],
            "occurred_at": pd.to_datetime(out["ts"], utc=True),
        }
    )
    return frame.sort_values("occurred_at", kind="stable").reset_index(drop=True)


def _row(record: dict[str, str], out: dict[str, list]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    user, item = record["user"], record["item"]
    for column, value in (("user", user), ("item", item)):
        if not value:
            errors.append((column, "empty"))
        elif len(value) > MAX_ID or _CONTROL.search(value):
            errors.append((column, f"longer than {MAX_ID} characters or control characters"))
    action, weight = "", 0.0
    if record.get("action"):
        action = record["action"].lower()
        if action not in ACTION_WEIGHTS:
            errors.append(("action", f"must be one of {', '.join(ACTION_WEIGHTS)}"))
        else:
            weight = ACTION_WEIGHTS[action]
    elif "rating" in record:
        try:
            rating = float(record["rating"])
        except ValueError:
            errors.append(("rating", "not a number"))
        else:
            if not math.isfinite(rating) or not 0 < rating <= RATING_MAX:
                errors.append(("rating", f"must be in (0, {RATING_MAX:g}]"))
            action, weight = "rating", rating_weight(rating)
    else:
        errors.append(("action", "empty"))
    ts = parse_timestamp(record["timestamp"])
    if ts is None:
        errors.append(("timestamp", "not Unix seconds or an ISO 8601 date-time"))
    if not errors:
        out["user_id"].append(user)
        out["event_id"].append(item)
        out["action"].append(action)
        out["weight"].append(weight)
        out["ts"].append(ts)
    return errors


def parse_timestamp(raw: str) -> datetime | None:
    """Unix seconds or ISO 8601 (naive means UTC) as an aware datetime; None if neither."""
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds) or not 0 <= seconds < 4_102_444_800:  # before 2100
            return None
        return datetime.fromtimestamp(seconds, UTC)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

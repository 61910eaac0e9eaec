"""Deterministic events data: users with a home city and tastes, events, and interactions.

Interactions are drawn from latent preferences (home city, genre tastes, event appeal) with
some popularity-driven noise, so a personalised model has something to learn that popularity
alone cannot see, and the offline comparison between them is meaningful.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

CITIES = ("Dublin", "Cork", "Galway", "Limerick", "Belfast", "Waterford")
CITY_SHARE = (0.34, 0.18, 0.14, 0.12, 0.14, 0.08)
VENUES = {
    "Dublin": ("Vicar Street", "The Button Factory", "Whelan's", "3Olympia", "The Sugar Club"),
    "Cork": ("Cyprus Avenue", "Cork Opera House", "Coughlan's", "The Roundy"),
    "Galway": ("Róisín Dubh", "Town Hall Theatre", "The Crane Bar", "Monroe's"),
    "Limerick": ("Dolan's", "University Concert Hall", "The Commercial"),
    "Belfast": ("Ulster Hall", "The Limelight", "Black Box", "The Empire"),
    "Waterford": ("Theatre Royal", "Central Arts", "Phil Grimes"),
}
# Genre -> words its descriptions draw from (the content-based model sees only this text).
GENRES: dict[str, tuple[str, ...]] = {
    "trad": ("fiddle", "bodhrán", "session", "reels", "uilleann pipes", "sean-nós", "jigs"),
    "rock": ("guitars", "loud", "riffs", "drummer", "indie", "mosh pit", "amplifiers"),
    "jazz": ("saxophone", "quartet", "improvised", "swing", "double bass", "bebop", "trio"),
    "electronic": ("DJ", "techno", "house", "synths", "club night", "bass", "rave"),
    "comedy": ("stand-up", "comedian", "laughs", "improv", "sketches", "funny", "roast"),
    "theatre": ("play", "actors", "stage", "drama", "matinee", "playwright", "premiere"),
    "classical": ("orchestra", "symphony", "violin", "concerto", "choir", "piano recital"),
    "hiphop": ("rapper", "beats", "MC", "bars", "turntables", "freestyle", "grime"),
    "folk": ("singer-songwriter", "acoustic", "ballads", "harmonies", "banjo", "storytelling"),
    "food": ("tasting", "chefs", "street food", "craft beer", "wine", "market", "oysters"),
    "family": ("kids", "puppet show", "family day", "workshop", "magic", "face painting"),
    "sport": ("match", "fans", "hurling", "rugby", "big screen", "derby", "kick-off"),
}
TITLE_WORDS = ("Night", "Live", "Sessions", "Showcase", "Weekend", "Special", "Festival")

ACTIONS = ("view", "save", "purchase")
#: Implicit-feedback strength of each action (ratings use the rating itself).
ACTION_WEIGHTS = {"view": 1.0, "save": 3.0, "purchase": 5.0}
#: Funnel order: a goal counts that action and everything deeper.
FUNNEL = {"view": 0, "save": 1, "purchase": 2}

HOME_CITY_SHARE = 0.85  # interactions in the user's own city
NOISE_SHARE = 0.12  # interactions driven by global popularity only, not by taste
MEAN_INTERACTIONS = 14
HISTORY_DAYS = 100  # interactions span this many days up to the anchor
EVENT_PAST_DAYS = 80  # events start from this many days before the anchor ...
EVENT_FUTURE_DAYS = 100  # ... to this many days after it
LEAD_DAYS = 50  # users look at an event up to this many days before it starts


@dataclass(frozen=True)
class EventUser:
    """A user and their home city."""

    user_id: str
    home_city: str


@dataclass(frozen=True)
class Event:
    """An event listing: what, where and when, with the text its embedding is made from."""

    event_id: str
    title: str
    city: str
    venue: str
    genre: str
    starts_at: datetime
    description: str

    @property
    def embedding_text(self) -> str:
        """The text the content-based model embeds (title, place and description)."""
        return f"{self.title}. {self.genre} in {self.city} at {self.venue}. {self.description}"

    @property
    def content_hash(self) -> str:
        """SHA-256 of the embedded text: the refresh skips events whose text is unchanged."""
        return hashlib.sha256(self.embedding_text.encode()).hexdigest()


@dataclass(frozen=True)
class EventsData:
    """Users, events and interactions (columns: user_id, event_id, action, weight, occurred_at)."""

    users: list[EventUser]
    events: list[Event]
    interactions: pd.DataFrame
    anchor: datetime


def default_anchor() -> datetime:
    """Today at midnight UTC: generated events are partly upcoming whenever the demo runs."""
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def generate_events_data(
    n_users: int = 2000,
    n_events: int = 600,
    *,
    seed: int = 42,
    anchor: datetime | None = None,
    mean_interactions: int = MEAN_INTERACTIONS,
) -> EventsData:
    """Users, events and their interactions; the same arguments give the same data."""
    rng = np.random.default_rng(seed)
    anchor = anchor or default_anchor()
    genres = list(GENRES)
    users = _users(rng, n_users)
    events = _events(rng, n_events, anchor, genres)
    interactions = _interactions(rng, users, events, genres, anchor, mean_interactions)
    return EventsData(users, events, interactions, anchor)


def _users(rng: np.random.Generator, n: int) -> list[EventUser]:
    cities = rng.choice(len(CITIES), size=n, p=CITY_SHARE)
    return [EventUser(f"u{i + 1:06d}", CITIES[c]) for i, c in enumerate(cities)]


def _events(rng: np.random.Generator, n: int, anchor: datetime, genres: list[str]) -> list[Event]:
    cities = rng.choice(len(CITIES), size=n, p=CITY_SHARE)
    genre_ix = rng.integers(0, len(genres), size=n)
    offsets = rng.uniform(-EVENT_PAST_DAYS, EVENT_FUTURE_DAYS, size=n)
    hours = rng.choice([13, 18, 19, 20, 21], size=n)
    out = []
    for i in range(n):
        city, genre = CITIES[cities[i]], genres[genre_ix[i]]
        venue = VENUES[city][int(rng.integers(len(VENUES[city])))]
        words = rng.choice(GENRES[genre], size=3, replace=False)
        title = f"{words[0].title()} {TITLE_WORDS[int(rng.integers(len(TITLE_WORDS)))]}"
        day = anchor + timedelta(days=int(offsets[i]))
        description = (
            f"An evening of {words[0]}, {words[1]} and {words[2]} at {venue}, {city}. "
            f"For anyone who loves {genre} and {words[1]}."
        )
        out.append(
            Event(
                event_id=f"ev{i + 1:06d}",
                title=title,
                city=city,
                venue=venue,
                genre=genre,
                starts_at=day.replace(hour=int(hours[i])),
                description=description,
            )
        )
    return out


def _interactions(
    rng: np.random.Generator,
    users: list[EventUser],
    events: list[Event],
    genres: list[str],
    anchor: datetime,
    mean_interactions: int,
) -> pd.DataFrame:
    n_users, n_events = len(users), len(events)
    tastes = rng.dirichlet(np.full(len(genres), 0.25), size=n_users)
    appeal = rng.lognormal(0.0, 0.8, size=n_events)  # some events are simply more popular
    home = np.array([CITIES.index(u.home_city) for u in users])
    ev_city = np.array([CITIES.index(e.city) for e in events])
    ev_genre = np.array([genres.index(e.genre) for e in events])
    ev_start = np.array([(e.starts_at - anchor).total_seconds() / 86400 for e in events])

    # Users draw more than they keep: interactions after the anchor are in the future.
    draws = rng.poisson(mean_interactions * 2, size=n_users)
    user_ix = np.repeat(np.arange(n_users), draws)
    m = len(user_ix)
    city = np.where(rng.random(m) < HOME_CITY_SHARE, home[user_ix], rng.integers(0, 6, size=m))
    event_ix = np.full(m, -1)
    for c in range(len(CITIES)):
        want = np.flatnonzero(city == c)
        pool = np.flatnonzero(ev_city == c)
        if not len(pool):
            continue
        # P(event | user, city) ~ appeal x taste for its genre (plus a little curiosity).
        for chunk in np.array_split(want, max(1, len(want) * len(pool) // 4_000_000 + 1)):
            weights = (tastes[user_ix[chunk]][:, ev_genre[pool]] + 0.02) * appeal[pool]
            event_ix[chunk] = pool[_sample_rows(rng, weights)]
    noise = (rng.random(m) < NOISE_SHARE) | (event_ix < 0)
    event_ix[noise] = rng.choice(n_events, size=int(noise.sum()), p=appeal / appeal.sum())

    # A user looks at an event some days before it starts; keep what happened by the anchor.
    seen_day = ev_start[event_ix] - rng.uniform(0, LEAD_DAYS, size=m)
    keep = (seen_day <= 0) & (seen_day >= -HISTORY_DAYS)
    user_ix, event_ix, seen_day = user_ix[keep], event_ix[keep], seen_day[keep]
    pairs = pd.DataFrame({"u": user_ix, "e": event_ix, "d": seen_day})
    pairs = pairs.drop_duplicates(["u", "e"]).reset_index(drop=True)
    # Affinity drives the funnel: people save and buy what matches their taste.
    affinity = tastes[pairs["u"], ev_genre[pairs["e"]]]
    is_home = home[pairs["u"]] == ev_city[pairs["e"]]
    p_save = np.clip(0.1 + 0.9 * affinity, 0, 0.9) * np.where(is_home, 1.0, 0.5)
    saved = rng.random(len(pairs)) < p_save
    bought = saved & (rng.random(len(pairs)) < 0.55)
    save_day = pairs["d"].to_numpy() + rng.uniform(0, 2, size=len(pairs))
    buy_day = save_day + rng.uniform(0, 2, size=len(pairs))
    limit = np.minimum(0.0, ev_start[pairs["e"]])
    saved &= save_day <= limit
    bought &= saved & (buy_day <= limit)
    frames = [
        _rows(pairs, np.ones(len(pairs), bool), pairs["d"], "view"),
        _rows(pairs, saved, save_day, "save"),
        _rows(pairs, bought, buy_day, "purchase"),
    ]
    out = pd.concat(frames, ignore_index=True)
    out["user_id"] = [users[i].user_id for i in out.pop("u")]
    out["event_id"] = [events[i].event_id for i in out.pop("e")]
    # Whole seconds: the value survives a round trip through files and the database unchanged.
    day_seconds = np.floor(out.pop("d").to_numpy() * 86400).astype("int64")
    out["occurred_at"] = pd.Timestamp(anchor) + pd.to_timedelta(day_seconds, unit="s")
    out["weight"] = out["action"].map(ACTION_WEIGHTS).astype(float)
    out = out.sort_values(["occurred_at", "user_id", "event_id"], kind="stable")
    return out[["user_id", "event_id", "action", "weight", "occurred_at"]].reset_index(drop=True)


def _rows(pairs: pd.DataFrame, mask, day, action: str) -> pd.DataFrame:
    mask = np.asarray(mask)
    return pd.DataFrame(
        {"u": pairs["u"][mask], "e": pairs["e"][mask], "d": np.asarray(day)[mask], "action": action}
    )


def _sample_rows(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One category per row of a row-stochastic matrix (vectorised inverse-CDF sampling)."""
    cumulative = probabilities.cumsum(axis=1)
    draws = rng.random(len(probabilities))[:, None] * cumulative[:, -1:]
    return (cumulative < draws).sum(axis=1).clip(max=probabilities.shape[1] - 1)

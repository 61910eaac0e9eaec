"""Deterministic events data: users with a home city and tastes, events, and interactions.

Made to look like real interaction logs rather than to flatter personalised models:
- strong popularity bias and a long tail: event appeal is heavy-tailed (log-normal, sigma
  1.5), so a few events take a large share of all views, and a third of the views follow
  appeal alone (what everybody is looking at), not the user's taste;
- new items over time: an event is listed some weeks before it starts and can only be seen
  between listing and start; interest is highest just after listing, so what is popular
  this week differs from what was popular over the whole history;
- users whose taste drifts: each user moves from one genre mix to another over the history;
- heavy and light users: activity per user is log-normal too.
Personal signal remains (home city, genre tastes, taste-driven saves and purchases), so a
model has something to learn beyond popularity, but recency-weighted popularity is a strong
baseline, as it is on public ratings data.
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

HOME_CITY_SHARE = 0.8  # taste-driven views in the user's own city
NOISE_SHARE = 0.35  # views driven by what is popular right now, not by taste
APPEAL_SIGMA = 1.5  # log-normal spread of event appeal: the popularity bias
ACTIVITY_SIGMA = 0.8  # log-normal spread of how active users are
TASTE_DRIFT = 0.6  # how far a user's genre mix moves towards a second one over the history
FRESH_DAYS = 8.0  # interest in an event decays with this time constant after listing ...
FRESH_FLOOR = 0.25  # ... down to this share of its peak
MEAN_INTERACTIONS = 14
HISTORY_DAYS = 100  # interactions span this many days up to the anchor
EVENT_PAST_DAYS = 80  # events start from this many days before the anchor ...
EVENT_FUTURE_DAYS = 100  # ... to this many days after it
LEAD_DAYS = 50  # events are listed up to this many days before they start ...
MIN_LEAD_DAYS = 10  # ... and at least this many


def embedding_text(
    title: str, genre: str | None, city: str | None, venue: str | None, description: str | None
) -> str:
    """What an item's embedding is made from: an event's title, place and description, or
    whatever a catalogue item (a film, an item of a generic CSV) has of those."""
    if genre and city and venue:
        return f"{title}. {genre} in {city} at {venue}. {description or ''}"
    return ". ".join(part for part in (title, genre, city, description) if part)


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
        return embedding_text(self.title, self.genre, self.city, self.venue, self.description)

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


@dataclass(frozen=True)
class _World:
    """Per-user tastes and home cities, per-event appeal, place, genre and listing window."""

    taste_from: np.ndarray
    taste_to: np.ndarray
    appeal: np.ndarray
    home: np.ndarray
    ev_city: np.ndarray
    ev_genre: np.ndarray
    ev_start: np.ndarray
    ev_listed: np.ndarray

    @classmethod
    def draw(
        cls,
        rng: np.random.Generator,
        users: list[EventUser],
        events: list[Event],
        genres: list[str],
        anchor: datetime,
    ) -> _World:
        n_users, n_events = len(users), len(events)
        taste_from = rng.dirichlet(np.full(len(genres), 0.25), size=n_users)
        taste_to = rng.dirichlet(np.full(len(genres), 0.25), size=n_users)
        appeal = rng.lognormal(0.0, APPEAL_SIGMA, size=n_events)
        ev_start = np.array([(e.starts_at - anchor).total_seconds() / 86400 for e in events])
        return cls(
            taste_from=taste_from,
            taste_to=taste_to,
            appeal=appeal,
            home=np.array([CITIES.index(u.home_city) for u in users]),
            ev_city=np.array([CITIES.index(e.city) for e in events]),
            ev_genre=np.array([genres.index(e.genre) for e in events]),
            ev_start=ev_start,
            ev_listed=ev_start - rng.uniform(MIN_LEAD_DAYS, LEAD_DAYS, size=n_events),
        )

    def taste(self, users: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Each user's genre taste on that day: it drifts from one profile to another."""
        d = (TASTE_DRIFT * (day + HISTORY_DAYS) / HISTORY_DAYS)[:, None]
        return (1 - d) * self.taste_from[users] + d * self.taste_to[users]


def _interactions(
    rng: np.random.Generator,
    users: list[EventUser],
    events: list[Event],
    genres: list[str],
    anchor: datetime,
    mean_interactions: int,
) -> pd.DataFrame:
    """Views, then saves and purchases of what was viewed, in time order."""
    world = _World.draw(rng, users, events, genres, anchor)
    pairs = _views(rng, world, len(users), mean_interactions)
    out = _funnel(rng, world, pairs)
    out["user_id"] = [users[i].user_id for i in out.pop("u")]
    out["event_id"] = [events[i].event_id for i in out.pop("e")]
    # Whole seconds: the value survives a round trip through files and the database unchanged.
    day_seconds = np.floor(out.pop("d").to_numpy() * 86400).astype("int64")
    out["occurred_at"] = pd.Timestamp(anchor) + pd.to_timedelta(day_seconds, unit="s")
    out["weight"] = out["action"].map(ACTION_WEIGHTS).astype(float)
    out = out.sort_values(["occurred_at", "user_id", "event_id"], kind="stable")
    return out[["user_id", "event_id", "action", "weight", "occurred_at"]].reset_index(drop=True)


def _views(
    rng: np.random.Generator, world: _World, n_users: int, mean_interactions: int
) -> pd.DataFrame:
    """(user, event, day) of every first view: who went looking when, and what they found."""
    activity = rng.lognormal(0.0, ACTIVITY_SIGMA, size=n_users)
    activity *= mean_interactions / activity.mean()
    draws = rng.poisson(activity)
    user_ix = np.repeat(np.arange(n_users), draws)
    m = len(user_ix)
    day = rng.uniform(-HISTORY_DAYS, 0.0, size=m)  # when the user went looking
    event_ix = np.full(m, -1)
    noise = rng.random(m) < NOISE_SHARE
    city = np.where(
        rng.random(m) < HOME_CITY_SHARE, world.home[user_ix], rng.integers(0, 6, size=m)
    )
    groups = [
        (np.flatnonzero(~noise & (city == c)), np.flatnonzero(world.ev_city == c)) for c in range(6)
    ]
    groups.append((np.flatnonzero(noise), np.arange(len(world.appeal))))
    for want, pool in groups:
        if not len(want) or not len(pool):
            continue
        for chunk in np.array_split(want, max(1, len(want) * len(pool) // 2_000_000 + 1)):
            # P(event | user, day) ~ appeal x freshness x taste for its genre, among the events
            # listed and not yet started that day; the popularity-driven share ignores taste.
            since = day[chunk][:, None] - world.ev_listed[pool]
            live = (since >= 0) & (day[chunk][:, None] <= world.ev_start[pool])
            fresh = np.exp(-np.clip(since, 0, None) / FRESH_DAYS) + FRESH_FLOOR
            weights = world.appeal[pool] * fresh * live
            if pool is not groups[-1][1]:
                taste = world.taste(user_ix[chunk], day[chunk])
                weights = weights * (taste[:, world.ev_genre[pool]] + 0.02)
            picked = _sample_rows(rng, weights)
            found = weights.sum(axis=1) > 0
            event_ix[chunk[found]] = pool[picked[found]]
    keep = event_ix >= 0  # nothing listed in that city that day: the user found nothing
    pairs = pd.DataFrame({"u": user_ix[keep], "e": event_ix[keep], "d": day[keep]})
    pairs = pairs.sort_values("d", kind="stable").drop_duplicates(["u", "e"])
    return pairs.reset_index(drop=True)


def _funnel(rng: np.random.Generator, world: _World, pairs: pd.DataFrame) -> pd.DataFrame:
    """View, save and purchase rows: the taste of that day drives how far a user goes."""
    users, events = pairs["u"].to_numpy(), pairs["e"].to_numpy()
    genre = world.ev_genre[events]
    d = TASTE_DRIFT * (pairs["d"].to_numpy() + HISTORY_DAYS) / HISTORY_DAYS
    affinity = (1 - d) * world.taste_from[users, genre] + d * world.taste_to[users, genre]
    is_home = world.home[users] == world.ev_city[events]
    p_save = np.clip(0.1 + 0.9 * affinity, 0, 0.9) * np.where(is_home, 1.0, 0.5)
    saved = rng.random(len(pairs)) < p_save
    bought = saved & (rng.random(len(pairs)) < 0.55)
    save_day = pairs["d"].to_numpy() + rng.uniform(0, 2, size=len(pairs))
    buy_day = save_day + rng.uniform(0, 2, size=len(pairs))
    limit = np.minimum(0.0, world.ev_start[events])
    saved &= save_day <= limit
    bought &= saved & (buy_day <= limit)
    frames = [
        _rows(pairs, np.ones(len(pairs), bool), pairs["d"], "view"),
        _rows(pairs, saved, save_day, "save"),
        _rows(pairs, bought, buy_day, "purchase"),
    ]
    return pd.concat(frames, ignore_index=True)


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

"""The event catalogue in memory: candidate filtering (upcoming, city, dates) and list details.

Reading thousands of candidate ids from PostgreSQL for every request cost more than scoring
them; the catalogue is re-read every few seconds instead, so a new or changed event reaches
the lists within `rec_catalogue_refresh_seconds` (held in a `services.mlops.cache.TtlCache`).

Items without a start time (loaded films, generic catalogue items) are always recommendable
and pass date filters; items without a city never pass a city filter. Items the served model
knows that are not stored at all (a ratings file loaded without its item metadata) count as
such undated, city-less items, so a trained model never serves empty lists for want of
metadata.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from services.recommender.algorithms import EventsModel

_SQL = "SELECT event_id, title, city, venue, genre, starts_at FROM events ORDER BY event_id"


_INT64 = np.iinfo(np.int64)


def _ns(moment: datetime) -> int:
    # Clamped: a request may say year 1 or 9999, beyond int64 nanoseconds since 1970.
    return int(min(max(moment.timestamp() * 1_000_000_000, _INT64.min), _INT64.max))


@dataclass
class Catalogue:
    """Every stored event: ids, cities and start times as arrays, details by id."""

    ids: np.ndarray
    cities: np.ndarray
    starts_ns: np.ndarray  # undated items: 0 (see `dated`)
    details: dict[str, dict[str, Any]]
    dated: np.ndarray | None = None  # False for items without a start time
    # Per served model: (catalogue position -> model item index or -1, model items the
    # catalogue lacks).
    _indices: tuple[Any, tuple[np.ndarray, np.ndarray]] | None = field(default=None, repr=False)

    @classmethod
    def load(cls, conn: Any) -> Catalogue:
        """Read the events table."""
        rows = conn.execute(_SQL).fetchall()
        return cls(
            ids=np.array([r[0] for r in rows], dtype=object),
            cities=np.array([r[2] for r in rows], dtype=object),
            starts_ns=np.array([_ns(r[5]) if r[5] else 0 for r in rows], dtype=np.int64),
            dated=np.array([r[5] is not None for r in rows], dtype=bool),
            details={
                r[0]: {
                    "title": r[1],
                    "city": r[2],
                    "venue": r[3],
                    "genre": r[4],
                    "starts_at": r[5].isoformat() if r[5] else None,
                }
                for r in rows
            },
        )

    def _model_indices(self, model: EventsModel) -> tuple[np.ndarray, np.ndarray]:
        """(model index per catalogue row or -1, model items absent from the catalogue)."""
        cached = self._indices
        if cached is not None and cached[0] is model:
            return cached[1]
        index = model.item_index
        indices = np.fromiter((index.get(e, -1) for e in self.ids), np.int64, len(self.ids))
        unstored = np.setdiff1d(np.arange(len(model.item_ids)), indices[indices >= 0])
        self._indices = (model, (indices, unstored))  # one reference assignment: thread-safe
        return indices, unstored

    def candidates(
        self,
        model: EventsModel,
        *,
        city: str | None,
        date_from: datetime | None,
        date_to: datetime | None,
        dismissed: set[str],
    ) -> np.ndarray:
        """Model item indices of upcoming events passing the filters, minus dismissed ones."""
        start = time.time_ns() if date_from is None else max(time.time_ns(), _ns(date_from))
        in_dates = self.starts_ns >= start
        if date_to is not None:
            in_dates &= self.starts_ns < _ns(date_to)
        dated = self.dated if self.dated is not None else np.ones(len(self.ids), dtype=bool)
        mask = in_dates | ~dated
        if city is not None:
            mask &= self.cities == city
        if dismissed:
            mask &= ~np.isin(self.ids, list(dismissed))
        indices, unstored = self._model_indices(model)
        indices = indices[mask]
        indices = indices[indices >= 0]
        if city is None and len(unstored):
            if dismissed:
                unstored = unstored[~np.isin(model.item_ids[unstored], list(dismissed))]
            indices = np.concatenate([indices, unstored])
        return indices

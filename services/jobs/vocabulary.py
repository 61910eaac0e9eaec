"""The jobs vocabulary (role families, places, sentence material), loaded once from package data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Family:
    """A role family: its titles, skills, salary level and the language of its documents."""

    key: str
    titles: tuple[str, ...]
    teams: tuple[str, ...]
    core_skills: tuple[str, ...]
    optional_skills: tuple[str, ...]
    salary: int  # mid level, high-cost US city, USD per year
    sectors: tuple[str, ...]  # hiring sectors, most likely first
    remote_rate: float
    weight: float  # how common postings of this family are
    focus: tuple[str, ...]  # noun phrases: "what this work is about"
    duties: tuple[str, ...]  # posting voice, present tense
    requirements: tuple[str, ...]  # posting voice, about the candidate
    experience: tuple[str, ...]  # resume voice, past tense; {n} and {pct} are filled in


@dataclass(frozen=True)
class City:
    """A place postings and people are in; cost scales salaries."""

    name: str
    country: str
    cost: float

    @property
    def label(self) -> str:
        """How the location is written on a posting or resume."""
        return f"{self.name}, {self.country}"


def _load(name: str) -> Any:
    return json.loads(resources.files("services.jobs").joinpath("data", name).read_text("utf-8"))


def _frozen(value: Any) -> Any:
    # JSON has only lists; the vocabulary is immutable, so sequences come back as tuples.
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value


@lru_cache(maxsize=1)
def families() -> tuple[Family, ...]:
    """The role families, in their canonical order (the generator's streams depend on it)."""
    return tuple(
        Family(**{k: _frozen(v) for k, v in raw.items()}) for raw in _load("families.json")
    )


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, Any]:
    """Places, company parts and sentence material of `data/vocabulary.json`, as tuples."""
    raw = _load("vocabulary.json")
    vocab = {k: _frozen(v) for k, v in raw.items() if k != "cities"}
    vocab["cities"] = tuple(City(**c) for c in raw["cities"])
    return vocab


def __getattr__(name: str) -> Any:
    # FAMILIES / ROLE_FAMILIES read lazily, so importing this module reads no file.
    if name == "FAMILIES":
        return families()
    if name == "ROLE_FAMILIES":
        return tuple(f.key for f in families())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

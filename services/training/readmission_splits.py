"""Time-ordered readmission splits: the initial data by patient, the later encounters in batches."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.core.errors import InputError


@dataclass(frozen=True)
class ReadmissionSplits:
    """The initial data split by patient into train/validation/test, and the ordered rest."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    future: pd.DataFrame  # the later encounters, in time order

    @property
    def initial(self) -> pd.DataFrame:
        """The initial data (all three splits), in time order."""
        frames = [self.train, self.validation, self.test]
        return pd.concat(frames).sort_values("encounter_id").reset_index(drop=True)

    def future_batches(self, n_batches: int = 8) -> list[pd.DataFrame]:
        """The future encounters cut into `n_batches` consecutive batches, oldest first."""
        return future_batches(self.future, n_batches)


def future_batches(future: pd.DataFrame, n_batches: int = 8) -> list[pd.DataFrame]:
    """Consecutive, time-ordered batches of about equal size."""
    if n_batches < 1:
        raise InputError("n_batches must be at least 1")
    ordered = future.sort_values("encounter_id", kind="stable").reset_index(drop=True)
    bounds = np.linspace(0, len(ordered), n_batches + 1).round().astype(int)
    return [ordered.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(bounds)]


def split_readmission(
    frame: pd.DataFrame,
    *,
    initial_share: float = 0.2,
    shares: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 42,
) -> ReadmissionSplits:
    """First `initial_share` of encounters (time order) split by patient; the rest is future.

    No patient appears in two of train/validation/test. Patients are assigned in a seeded
    random order until each split holds its share of rows, so shares are met to within one
    patient's encounters.
    """
    if not 0 < initial_share <= 1:
        raise InputError("initial_share must be in (0, 1]")
    if not math.isclose(sum(shares), 1.0) or min(shares) <= 0:
        raise InputError("split shares must be positive and sum to 1")
    ordered = frame.sort_values("encounter_id", kind="stable").reset_index(drop=True)
    cut = math.ceil(len(ordered) * initial_share)
    initial, future = ordered.iloc[:cut], ordered.iloc[cut:].reset_index(drop=True)
    sizes = initial.groupby("patient_nbr", sort=True).size()
    rng = np.random.default_rng(seed)
    patients = sizes.index.to_numpy()[rng.permutation(len(sizes))]
    filled = np.cumsum(sizes.loc[patients].to_numpy()) / len(initial)
    part = np.searchsorted(np.cumsum(shares)[:-1], filled, side="left")
    assignment = pd.Series(part, index=patients)
    which = initial["patient_nbr"].map(assignment).to_numpy()
    train, validation, test = (initial[which == k].reset_index(drop=True) for k in range(3))
    return ReadmissionSplits(train, validation, test, future)

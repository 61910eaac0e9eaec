"""Documented drift scenarios for the readmission generator's later encounters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DriftScenario:
    """What changes over simulated time; times are shares of the generated span (0 to 1).

    The initial share used for the first training (0.2 by default) lies before every start,
    so a scenario changes only the later batches, never the first model's data.
    """

    name: str
    #: Gradual: patients get older, up to `age_years` more by the end of the span.
    age_start: float = 1.0
    age_years: float = 0.0
    #: Gradual: prior inpatient/emergency/outpatient visit rates rise, by up to this factor.
    utilisation_start: float = 1.0
    utilisation_increase: float = 0.0
    #: Abrupt: from this time diag_3 is coded with a sub-code ("428" becomes "428.9").
    coding_change_at: float = 1.0
    #: Abrupt: from this time a transitional-care programme changes who comes back: prior
    #: inpatient stays matter far less, poor glucose control and insulin increases far more.
    concept_change_at: float = 1.0

    def ramp(self, t: np.ndarray, start: float) -> np.ndarray:
        """0 before `start`, rising linearly to 1 at the end of the span."""
        if start >= 1.0:
            return np.zeros_like(t)
        return np.clip((t - start) / (1.0 - start), 0.0, 1.0)

    def describe(self) -> list[str]:
        """One line per change, for reports and the README."""
        lines = []
        if self.age_years:
            lines.append(f"gradual: ages +{self.age_years:g} years from t={self.age_start:g}")
        if self.utilisation_increase:
            lines.append(
                f"gradual: prior visit rates x{1 + self.utilisation_increase:g} from "
                f"t={self.utilisation_start:g}"
            )
        if self.coding_change_at < 1.0:
            lines.append(f"abrupt: diag_3 coded with sub-codes from t={self.coding_change_at:g}")
        if self.concept_change_at < 1.0:
            lines.append(
                f"abrupt: readmission risk factors change at t={self.concept_change_at:g} "
                "(concept drift)"
            )
        return lines or ["no drift"]


#: With the default 20 % initial share and 8 later batches, batch k covers t in
#: [0.1 k + 0.1, 0.1 k + 0.2): ageing starts in batch 2, visits rise from batch 3, the coding
#: change lands with batch 5 and the concept change with batch 6.
SCENARIOS: dict[str, DriftScenario] = {
    "none": DriftScenario(name="none"),
    "default": DriftScenario(
        name="default",
        age_start=0.3,
        age_years=15.0,
        utilisation_start=0.4,
        utilisation_increase=1.5,
        coding_change_at=0.6,
        concept_change_at=0.7,
    ),
}


def get_scenario(name: str) -> DriftScenario:
    """The named scenario; the error lists the valid names."""
    from services.core.errors import InputError

    try:
        return SCENARIOS[name]
    except KeyError:
        raise InputError(
            f"unknown drift scenario {name!r}: choose one of {', '.join(SCENARIOS)}"
        ) from None

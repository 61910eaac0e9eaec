"""A/B statistics: two-proportion z-test with lift and its interval, sample-ratio mismatch."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

#: An SRM p-value below this flags broken assignment (strict: many checks run over time).
SRM_ALPHA = 0.001


@dataclass(frozen=True)
class Comparison:
    """Treatment vs control: absolute and relative lift, their intervals and the p-value."""

    absolute_lift: float
    absolute_ci: tuple[float, float]
    relative_lift: float | None
    relative_ci: tuple[float, float] | None
    z: float
    p_value: float


def compare_proportions(
    control_conversions: int,
    control_exposures: int,
    treatment_conversions: int,
    treatment_exposures: int,
    confidence: float = 0.95,
) -> Comparison:
    """Two-sided two-proportion z-test (pooled standard error for the test, unpooled for the
    interval). The relative-lift interval divides the absolute one by the control rate, i.e.
    treats the control rate as known: fine at A/B sample sizes, stated so it can be checked."""
    pc = control_conversions / control_exposures if control_exposures else 0.0
    pt = treatment_conversions / treatment_exposures if treatment_exposures else 0.0
    diff = pt - pc
    if not control_exposures or not treatment_exposures:
        return Comparison(diff, (math.nan, math.nan), None, None, math.nan, math.nan)
    pooled = (control_conversions + treatment_conversions) / (
        control_exposures + treatment_exposures
    )
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / control_exposures + 1 / treatment_exposures))
    z = diff / se_pooled if se_pooled > 0 else 0.0
    p_value = float(2 * stats.norm.sf(abs(z))) if se_pooled > 0 else 1.0
    se = math.sqrt(pc * (1 - pc) / control_exposures + pt * (1 - pt) / treatment_exposures)
    crit = float(stats.norm.ppf(0.5 + confidence / 2))
    ci = (diff - crit * se, diff + crit * se)
    if pc > 0:
        return Comparison(diff, ci, diff / pc, (ci[0] / pc, ci[1] / pc), z, p_value)
    return Comparison(diff, ci, None, None, z, p_value)


@dataclass(frozen=True)
class SampleRatio:
    """Chi-square goodness of fit of the exposures per variant to the configured weights."""

    chi2: float
    p_value: float
    mismatch: bool


def sample_ratio_check(exposures: list[int], weights: list[float]) -> SampleRatio:
    """Flag a sample-ratio mismatch: exposures far from what the traffic weights predict."""
    total = sum(exposures)
    if total == 0 or len(exposures) < 2:
        return SampleRatio(0.0, 1.0, False)
    weight_sum = sum(weights)
    expected = [total * w / weight_sum for w in weights]
    chi2, p_value = stats.chisquare(exposures, f_exp=expected)
    return SampleRatio(float(chi2), float(p_value), bool(p_value < SRM_ALPHA))

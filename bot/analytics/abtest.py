"""The statistics of an A/B experiment, from each arm's counts: pure (scipy, no I/O).

Per arm: the conversion rate and its 95 % Wilson score interval. Each other arm against
the control: the difference of rates with its 95 % Newcombe interval (built from the two
Wilson intervals) and the pooled two-proportion z-test. The whole experiment: the
sample-ratio-mismatch (SRM) check, a chi-square goodness-of-fit of the exposures against
the weights the arms were assigned with. docs/experiments.md says why these and how to
read them.

Why Wilson: the textbook interval p ± 1.96·√(p(1-p)/n) is too narrow at small n and
collapses to [0, 0] or [1, 1] when no one or everyone converted; Wilson's stays inside
[0, 1] and keeps its 95 % coverage there. Why pooled: under the null hypothesis (the arms
convert alike) both share one rate, best estimated from both together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy import stats

CONFIDENCE = 0.95
Z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))  # 1.959963984540054
# SRM: a split this far from the weights happens by chance less than once in a thousand
# experiments. Not 0.05: the check runs at every look at the report, for the whole life
# of the experiment, and a real mismatch (a bug in assignment or in logging) shows a
# p-value far below 0.001 within days, so the strict bar costs nothing and keeps false
# alarms rare. The usual threshold for SRM checks.
SRM_THRESHOLD = 0.001
# The chi-square approximation holds when every arm expects at least this many people.
SRM_MIN_EXPECTED = 5.0


@dataclass(frozen=True, slots=True)
class ArmCounts:
    """What the store counted for one arm: distinct people exposed, and those of them
    who reached the outcome after their first exposure."""

    arm: str
    exposures: int
    conversions: int

    def __post_init__(self) -> None:
        if not 0 <= self.conversions <= self.exposures:
            raise ValueError(
                f"arm {self.arm!r}: {self.conversions} conversions out of {self.exposures} "
                "exposures (need 0 <= conversions <= exposures)"
            )


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class ArmResult:
    arm: str
    weight: float  # the share of people the arm should get (the weights, normalised)
    exposures: int
    conversions: int
    rate: float | None  # None: no one exposed yet
    interval: Interval | None  # 95 % Wilson score interval of the rate


@dataclass(frozen=True, slots=True)
class Comparison:
    """One arm against the control: `difference` = rate(arm) - rate(control)."""

    arm: str
    control: str
    difference: float
    interval: Interval  # 95 % Newcombe (hybrid score) interval of the difference
    z: float  # pooled two-proportion z statistic (0 when nothing can differ yet)
    p_value: float  # two-sided


@dataclass(frozen=True, slots=True)
class RatioCheck:
    """The sample-ratio-mismatch check: are the exposures split as the weights say?"""

    chi2: float
    p_value: float
    mismatch: bool  # p < SRM_THRESHOLD: the assignment or the logging is suspect


@dataclass(frozen=True, slots=True)
class AbResult:
    control: str
    arms: tuple[ArmResult, ...]  # in the order given
    comparisons: tuple[Comparison, ...]  # each arm with exposures, against the control
    ratio: RatioCheck | None  # None: one arm, or too few people to judge the split
    weights_assumed: bool  # the weights were unknown: equal weights were assumed


def wilson(conversions: int, exposures: int, z: float = Z) -> Interval:
    """The Wilson score interval of conversions/exposures (exposures > 0):
    (p + z²/2n ± z·√(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    if exposures <= 0:
        raise ValueError("a Wilson interval needs at least one exposure")
    n = exposures
    p = conversions / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    scale = 1 + z2 / n
    # exact at the ends (the formula gives 1 - 1e-16 when everyone converted)
    low = 0.0 if conversions == 0 else max(0.0, (centre - spread) / scale)
    high = 1.0 if conversions == n else min(1.0, (centre + spread) / scale)
    return Interval(low, high)


def newcombe(arm: ArmCounts, control: ArmCounts) -> Interval:
    """Newcombe's hybrid score interval of rate(arm) - rate(control) (both exposed): the
    distances from each rate to its own Wilson limits, added in quadrature."""
    p1, p2 = _rate(arm), _rate(control)
    w1, w2 = wilson(arm.conversions, arm.exposures), wilson(control.conversions, control.exposures)
    d = p1 - p2
    low = d - math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2)
    high = d + math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2)
    return Interval(max(-1.0, low), min(1.0, high))


def pooled_z(arm: ArmCounts, control: ArmCounts) -> tuple[float, float]:
    """The pooled two-proportion z-test of rate(arm) = rate(control): (z, two-sided p).
    z = (p1 - p2) / √(p(1-p)(1/n1 + 1/n2)), p the pooled rate. When no one or everyone
    converted in both arms there is no spread to test against: z = 0, p = 1."""
    n1, n2 = arm.exposures, control.exposures
    pooled = (arm.conversions + control.conversions) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return 0.0, 1.0
    z = (_rate(arm) - _rate(control)) / math.sqrt(variance)
    return z, float(2 * stats.norm.sf(abs(z)))


def sample_ratio(exposures: Sequence[int], weights: Sequence[float]) -> RatioCheck | None:
    """Chi-square goodness-of-fit of the exposures against the weights; None with fewer
    than two arms expected to get people, or when an arm expects fewer than 5 people
    (the chi-square approximation does not hold there)."""
    total = sum(exposures)
    share = _normalised(weights)
    observed, expected = [], []
    for count, w in zip(exposures, share, strict=True):
        if w == 0:
            if count > 0:  # people in an arm that should get none: certainly wrong
                return RatioCheck(math.inf, 0.0, True)
            continue
        observed.append(count)
        expected.append(total * w)
    if len(observed) < 2 or min(expected) < SRM_MIN_EXPECTED:
        return None
    chi2, p = stats.chisquare(observed, f_exp=expected)
    return RatioCheck(float(chi2), float(p), bool(p < SRM_THRESHOLD))


def analyse(
    counts: Sequence[ArmCounts],
    weights: Mapping[str, float] | None = None,
    control: str | None = None,
) -> AbResult:
    """Every figure of the experiment. `counts`: one per arm, the control first unless
    `control` names it. `weights`: arm -> weight (any positive scale); None, or one that
    misses an arm, means equal weights are assumed (and the result says so)."""
    if not counts:
        raise ValueError("an experiment needs at least one arm")
    names = [c.arm for c in counts]
    if len(set(names)) != len(names):
        raise ValueError(f"arms named twice in {names}")
    chosen = names[0] if control is None else control
    if chosen not in names:
        raise ValueError(f"control arm {chosen!r} is not one of {names}")
    assumed = weights is None or any(
        a not in weights or not math.isfinite(weights[a]) or weights[a] < 0 for a in names
    )
    given = [1.0] * len(names) if assumed or weights is None else [weights[a] for a in names]
    if sum(given) <= 0:
        assumed, given = True, [1.0] * len(names)
    share = _normalised(given)
    arms = tuple(
        ArmResult(
            c.arm,
            w,
            c.exposures,
            c.conversions,
            _rate(c) if c.exposures else None,
            wilson(c.conversions, c.exposures) if c.exposures else None,
        )
        for c, w in zip(counts, share, strict=True)
    )
    base = counts[names.index(chosen)]
    comparisons = tuple(
        compare(c, base) for c in counts if c.arm != chosen and c.exposures and base.exposures
    )
    ratio = sample_ratio([c.exposures for c in counts], share)
    return AbResult(chosen, arms, comparisons, ratio, assumed)


def compare(arm: ArmCounts, control: ArmCounts) -> Comparison:
    """One arm against the control (both with exposures)."""
    z, p = pooled_z(arm, control)
    return Comparison(
        arm.arm, control.arm, _rate(arm) - _rate(control), newcombe(arm, control), z, p
    )


def _rate(c: ArmCounts) -> float:
    return c.conversions / c.exposures


def _normalised(weights: Sequence[float]) -> list[float]:
    total = sum(weights)
    return [w / total for w in weights]

"""The statistics of an A/B experiment (bot/analytics/abtest.py) against figures worked
out by hand, scipy's own implementations, and the edge cases of a young experiment."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from bot.analytics.abtest import (
    SRM_THRESHOLD,
    ArmCounts,
    Z,
    analyse,
    newcombe,
    pooled_z,
    sample_ratio,
    wilson,
)

LONG = ArmCounts("long", 1000, 100)
SHORT = ArmCounts("short", 1000, 130)


def test_the_hand_computed_example() -> None:
    """Control `long` 1000 exposed / 100 converted, variant `short` 1000 / 130; z = 1.96
    (1.959964), z² = 3.841459.

    Wilson, (p + z²/2n ± z·√(p(1-p)/n + z²/4n²)) / (1 + z²/n), with z²/2n = 0.0019207,
    z²/4n² = 0.00000096, 1 + z²/n = 1.0038415:
      long,  p = 0.10: centre 0.1019207, spread 1.96·√(0.0000900 + 0.00000096)
             = 1.96·0.0095373 = 0.0186928: [0.0832279, 0.1206135] / 1.0038415
             = [0.0829, 0.1202]
      short, p = 0.13: centre 0.1319207, spread 1.96·√(0.0001131 + 0.00000096)
             = 1.96·0.0106799 = 0.0209322: [0.1109885, 0.1528529] / 1.0038415
             = [0.1106, 0.1523]
    Pooled z-test: p = 230/2000 = 0.115, se = √(0.115·0.885·(1/1000 + 1/1000))
      = √0.00020355 = 0.0142671; z = (0.13 - 0.10)/0.0142671 = 2.1027;
      two-sided p = 2·(1 - Φ(2.1027)) = 2·0.01774 = 0.0355.
    Newcombe interval of the difference d = 0.03:
      low  = d - √((0.13 - 0.1106)² + (0.1202 - 0.10)²) = 0.03 - √(0.019436² + 0.020152²)
           = 0.03 - 0.027998 = 0.0020
      high = d + √((0.1523 - 0.13)² + (0.10 - 0.0829)²) = 0.03 + √(0.022268² + 0.017091²)
           = 0.03 + 0.028071 = 0.0581
    """
    result = analyse([LONG, SHORT], {"long": 1, "short": 1})
    long, short = result.arms
    assert result.control == "long" and not result.weights_assumed
    assert (long.rate, short.rate) == (0.10, 0.13)
    assert long.interval is not None and short.interval is not None
    assert (round(long.interval.low, 4), round(long.interval.high, 4)) == (0.0829, 0.1202)
    assert (round(short.interval.low, 4), round(short.interval.high, 4)) == (0.1106, 0.1523)
    (versus,) = result.comparisons
    assert (versus.arm, versus.control) == ("short", "long")
    assert versus.difference == pytest.approx(0.03)
    assert round(versus.z, 4) == 2.1027
    assert round(versus.p_value, 4) == 0.0355
    assert (round(versus.interval.low, 4), round(versus.interval.high, 4)) == (0.0020, 0.0581)
    assert result.ratio is not None and result.ratio.p_value == pytest.approx(1.0)


def test_z_is_the_usual_quantile() -> None:
    assert round(Z, 6) == 1.959964


@pytest.mark.parametrize(
    ("k", "n"), [(0, 1), (1, 1), (0, 10), (10, 10), (1, 3), (7, 40), (100, 1000), (499, 500)]
)
def test_wilson_agrees_with_scipy(k: int, n: int) -> None:
    ours = wilson(k, n)
    theirs = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert ours.low == pytest.approx(float(theirs.low), abs=1e-12)
    assert ours.high == pytest.approx(float(theirs.high), abs=1e-12)


def test_wilson_is_exact_at_the_ends() -> None:
    assert wilson(0, 10).low == 0.0 and wilson(10, 10).high == 1.0
    with pytest.raises(ValueError, match="at least one exposure"):
        wilson(0, 0)


def test_pooled_z_agrees_with_the_chi_square_of_the_two_by_two_table() -> None:
    """The pooled z-test is the 2x2 chi-square test without continuity correction: z² = χ²
    and the same p-value."""
    table = [[130, 870], [100, 900]]
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    z, ours = pooled_z(SHORT, LONG)
    assert z * z == pytest.approx(chi2)
    assert ours == pytest.approx(p)


def test_the_sample_ratio_mismatch_warning() -> None:
    """5000 / 4600 at 50/50: expected 4800 each, χ² = 2·200²/4800 = 16.667, p = 4.5e-5 <
    0.001: a mismatch. 5000 / 4950: χ² = 2·25²/4975 = 0.2513, p = 0.616: none."""
    bad = sample_ratio([5000, 4600], [0.5, 0.5])
    assert bad is not None and bad.mismatch
    assert round(bad.chi2, 3) == 16.667 and bad.p_value == pytest.approx(4.4557e-5, rel=1e-3)
    good = sample_ratio([5000, 4950], [0.5, 0.5])
    assert good is not None and not good.mismatch
    assert round(good.chi2, 4) == 0.2513 and round(good.p_value, 3) == 0.616
    assert SRM_THRESHOLD == 0.001


def test_the_split_is_judged_against_uneven_weights() -> None:
    assert not sample_ratio([7020, 2980], [70, 30]).mismatch  # type: ignore[union-attr]
    even = analyse([ArmCounts("a", 7000, 0), ArmCounts("b", 3000, 0)])
    assert even.weights_assumed and even.ratio is not None and even.ratio.mismatch
    weighted = analyse([ArmCounts("a", 7000, 0), ArmCounts("b", 3000, 0)], {"a": 7, "b": 3})
    assert weighted.ratio is not None and not weighted.ratio.mismatch
    assert [a.weight for a in weighted.arms] == [0.7, 0.3]


def test_people_in_an_arm_of_weight_zero_are_a_mismatch() -> None:
    check = sample_ratio([50, 50, 3], [1, 1, 0])
    assert check is not None and check.mismatch and check.p_value == 0.0
    quiet = sample_ratio([50, 50, 0], [1, 1, 0])
    assert quiet is not None and not quiet.mismatch


def test_too_few_people_to_judge_the_split() -> None:
    assert sample_ratio([3, 4], [1, 1]) is None  # expected 3.5 each: chi-square unreliable
    assert sample_ratio([40], [1]) is None  # one arm


def test_an_arm_no_one_has_seen_yet() -> None:
    result = analyse([LONG, ArmCounts("short", 0, 0)], {"long": 1, "short": 1})
    assert result.arms[1].rate is None and result.arms[1].interval is None
    assert result.comparisons == ()
    assert result.ratio is not None and result.ratio.mismatch  # 1000 / 0 at 50/50
    unseen_control = analyse([ArmCounts("long", 0, 0), SHORT])
    assert unseen_control.comparisons == ()


def test_no_one_or_everyone_converts() -> None:
    nobody = analyse([ArmCounts("a", 200, 0), ArmCounts("b", 200, 0)])
    (c,) = nobody.comparisons
    assert (c.difference, c.z, c.p_value) == (0.0, 0.0, 1.0)
    assert c.interval.low < 0 < c.interval.high
    everyone = analyse([ArmCounts("a", 50, 50), ArmCounts("b", 60, 60)])
    (c,) = everyone.comparisons
    assert (c.z, c.p_value) == (0.0, 1.0)
    assert everyone.arms[0].interval is not None and everyone.arms[0].interval.high == 1.0
    one_sided = analyse([ArmCounts("a", 100, 0), ArmCounts("b", 100, 100)])
    (c,) = one_sided.comparisons
    assert c.difference == 1.0 and c.p_value < 1e-20
    assert -1.0 <= c.interval.low <= c.interval.high <= 1.0


def test_a_single_arm() -> None:
    result = analyse([LONG])
    assert result.control == "long" and result.comparisons == () and result.ratio is None
    assert result.arms[0].weight == 1.0


def test_weights_unknown_or_incomplete_are_assumed_equal() -> None:
    arms = [LONG, SHORT, ArmCounts("third", 1000, 90)]
    for weights in (None, {"long": 1, "short": 1}, {"long": 1, "short": 1, "third": -1}):
        result = analyse(arms, weights)
        assert result.weights_assumed
        assert [a.weight for a in result.arms] == pytest.approx([1 / 3] * 3)
    assert analyse(arms, {"long": 0, "short": 0, "third": 0}).weights_assumed


def test_a_named_control_and_several_arms() -> None:
    result = analyse([LONG, SHORT, ArmCounts("third", 1000, 90)], control="short")
    assert result.control == "short"
    assert [(c.arm, c.control) for c in result.comparisons] == [
        ("long", "short"),
        ("third", "short"),
    ]
    assert result.comparisons[0].difference == pytest.approx(-0.03)
    assert newcombe(LONG, SHORT).high == pytest.approx(-newcombe(SHORT, LONG).low)


def test_bad_counts_are_refused_with_the_arm_named() -> None:
    with pytest.raises(ValueError, match=r"'b'.*11 conversions out of 10"):
        ArmCounts("b", 10, 11)
    with pytest.raises(ValueError, match="at least one arm"):
        analyse([])
    with pytest.raises(ValueError, match="named twice"):
        analyse([LONG, LONG])
    with pytest.raises(ValueError, match="'nope' is not one of"):
        analyse([LONG, SHORT], control="nope")


def test_p_values_are_symmetric_and_finite() -> None:
    for a, b in [(LONG, SHORT), (ArmCounts("x", 7, 1), ArmCounts("y", 9000, 4000))]:
        z1, p1 = pooled_z(a, b)
        z2, p2 = pooled_z(b, a)
        assert z1 == pytest.approx(-z2) and p1 == pytest.approx(p2)
        assert math.isfinite(z1) and 0 <= p1 <= 1

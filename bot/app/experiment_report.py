"""`vie-coach stats --experiment NAME`: the text report of one A/B experiment.

A table (arm, weight, exposed, converted, rate, 95 % interval), each arm against the
control in plain words, the sample-ratio check, what the outcome is, and the reminder not
to stop at the first p < 0.05 (docs/experiments.md). The figures come from
`bot.store.experiments` (counts) and `bot.analytics.abtest` (statistics).

Privacy: no one is named and nothing anyone wrote is shown. A group of fewer than 5
people is shown as "< 5": an arm with fewer than 5 exposed shows no figure at all, an arm
with 1 to 4 conversions shows neither them nor its rate; no test is drawn from a hidden
figure (its p-value would give it away, and below 5 the z-test's approximation fails).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.analytics.abtest import AbResult, ArmCounts, ArmResult, Comparison, analyse
from bot.core.model import Dialogs
from bot.store import open_store
from bot.store.experiments import (
    ArmTally,
    ExperimentCounts,
    UnknownExperiment,
    experiment_counts,
)
from bot.store.experiments import experiment_names as names_in

SMALL = 5  # groups of fewer people are shown as "< 5"
ALPHA = 0.05  # the bar for "converts more / less", shared between the comparisons
HIDDEN = "< 5"
NONE = "—"


async def experiment_names(db_path: Path | str) -> list[str]:
    """The experiments someone has been exposed to (the store opened read-only)."""
    store = await open_store(db_path, read_only=True)
    try:
        return await names_in(store.fetch_all)
    finally:
        await store.close()


async def experiment_report(
    db_path: Path | str,
    name: str,
    now: datetime,
    weights: Mapping[str, float] | None = None,
    control: str | None = None,
    dialogs: Dialogs | None = None,
) -> str:
    """The report of experiment `name` as of `now`. `weights`: arm -> weight (their
    order gives the arms' order; the first is the control unless `control` names one);
    when not given, those of `dialogs` (the loaded set) if it defines the experiment;
    else equal weights are assumed, and the text says so. Raises UnknownExperiment (a
    VieError) when no one has been exposed to `name`."""
    if weights is None and dialogs is not None:
        weights = weights_of(dialogs, name)
    store = await open_store(db_path, read_only=True)
    try:
        try:
            counts = await experiment_counts(store.fetch_all, name)
        except UnknownExperiment as exc:
            if dialogs is None:
                raise
            raise UnknownExperiment(name, exc.known, dialogs.experiments) from None
    finally:
        await store.close()
    return render(counts, now, weights, control)


def weights_of(dialogs: Dialogs, name: str) -> dict[str, float] | None:
    """arm -> weight of experiment `name` in the dialogs, in their order (None if they
    do not define it: an experiment since removed)."""
    experiment = dialogs.experiments.get(name)
    return None if experiment is None else {arm.name: arm.weight for arm in experiment.arms}


def render(
    counts: ExperimentCounts,
    now: datetime,
    weights: Mapping[str, float] | None = None,
    control: str | None = None,
) -> str:
    """The text of the report (pure: the counts are given)."""
    tallies = _ordered(counts.arms, weights)
    if control is not None and control not in {t.arm for t in tallies}:
        tallies = [*tallies, ArmTally(control, 0, 0, 0)]  # the control no one has seen
    result = analyse(
        [ArmCounts(t.arm, t.exposures, t.conversions) for t in tallies], weights, control
    )
    now = now.astimezone(UTC)
    days = max(0, (now - counts.first).days)
    ago = "today" if days == 0 else "1 day ago" if days == 1 else f"{days} days ago"
    lines = [
        f"Experiment {counts.name}, as of {now:%Y-%m-%d %H:%M} UTC",
        f"first exposure {counts.first:%Y-%m-%d} ({ago}), latest {counts.last:%Y-%m-%d}",
        *_outcome_lines(counts.outcomes),
        "",
        *_table(result),
        "",
        *_comparison_lines(result, {t.arm: t for t in tallies}),
        *_ratio_lines(result, tallies),
        *_already_line(tallies),
        "",
        "Fix the number of people per arm before starting, and read the result once it "
        "is reached: stopping at the first p < 0.05 finds differences that are not there.",
    ]
    return "\n".join(lines)


def _ordered(arms: Sequence[ArmTally], weights: Mapping[str, float] | None) -> list[ArmTally]:
    """The arms in the dialogs' order (those of `weights`, seen or not), then the others
    by name (an arm since removed from the dialogs)."""
    seen = {t.arm: t for t in arms}
    first = [seen.get(arm, ArmTally(arm, 0, 0, 0)) for arm in (weights or {})]
    return first + [t for t in arms if t.arm not in (weights or {})]


def _outcome_lines(outcomes: Sequence[str]) -> list[str]:
    said = [_outcome(o) for o in outcomes]
    if len(said) == 1:
        return [f"outcome: {said[0]}, after the first exposure"]
    return [
        "outcome changed during the experiment: " + "; ".join(said),
        "(each person is counted against the outcome of their first exposure)",
    ]


def _outcome(outcome: str) -> str:
    kind, _, what = outcome.partition(":")
    if kind == "milestone":
        return f"reaching milestone {what}"
    if kind == "stage":
        return f"completing stage {what}"
    return f"{outcome} (not an outcome this version knows: nobody converts)"


def _table(result: AbResult) -> list[str]:
    rows = [("arm", "weight", "exposed", "converted", "rate", "95 % CI")]
    unknown = result.weights_assumed and len(result.arms) > 1
    for arm in result.arms:
        control = " *" if arm.arm == result.control else ""
        weight = "?" if unknown else f"{arm.weight * 100:.0f} %"
        rows.append((arm.arm + control, weight, *_figures(arm)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines.append(f"* control: {result.control}")
    if unknown:
        lines.append("weights unknown: equal weights assumed for the split check")
    return lines


def _figures(arm: ArmResult) -> tuple[str, str, str, str]:
    if 0 < arm.exposures < SMALL:
        return HIDDEN, NONE, NONE, NONE
    if arm.rate is None or arm.interval is None:
        return "0", NONE, NONE, NONE
    if 0 < arm.conversions < SMALL:
        return str(arm.exposures), HIDDEN, NONE, NONE
    ci = f"{_percent(arm.interval.low)} – {_percent(arm.interval.high)}"
    return str(arm.exposures), str(arm.conversions), _percent(arm.rate), ci


def _shown(tally: ArmTally) -> bool:
    """Whether the arm's figures may be shown and tested (see the module docstring)."""
    return tally.exposures >= SMALL and not 0 < tally.conversions < SMALL


def _comparison_lines(result: AbResult, tallies: Mapping[str, ArmTally]) -> list[str]:
    others = [a.arm for a in result.arms if a.arm != result.control]
    if not others:
        return ["a single arm: nothing to compare it with"]
    base = tallies[result.control]
    if not _shown(base):
        return [f"no comparison yet: the control {result.control} has {_why(base)}"]
    tested = {c.arm: c for c in result.comparisons}
    shown = [a for a in others if a in tested and _shown(tallies[a])]
    alpha = ALPHA / max(1, len(shown))  # Bonferroni: one bar for several comparisons
    lines = []
    for arm in others:
        if arm not in shown:
            lines.append(f"{arm} vs {result.control}: not yet, {arm} has {_why(tallies[arm])}")
        else:
            lines.append(_verdict(tested[arm], alpha))
    if len(shown) > 1:
        lines.append(
            f"({len(shown)} arms against the control: each needs p < {alpha:.3g} "
            f"(0.05 / {len(shown)}) to count as a difference)"
        )
    return lines


def _why(tally: ArmTally) -> str:
    if tally.exposures == 0:
        return "no one exposed"
    if tally.exposures < SMALL:
        return "fewer than 5 people"
    return "fewer than 5 conversions"


def _verdict(c: Comparison, alpha: float) -> str:
    diff = _points(c.difference)
    ci = f"{_points(c.interval.low)} to {_points(c.interval.high)}"
    if c.p_value < alpha:
        words = f"{c.arm} converts {'more' if c.difference > 0 else 'less'}, p {_p(c.p_value)}"
    else:
        words = f"no clear difference yet (p {_p(c.p_value)})"
    return f"{c.arm} vs {c.control}: {diff} (95 % CI {ci}): {words}"


def _ratio_lines(result: AbResult, tallies: Sequence[ArmTally]) -> list[str]:
    """The split check runs on every arm, hidden ones included (a broken assignment must
    not go unseen), but then neither their counts nor the p-value are printed."""
    if len(tallies) < 2:
        return []
    check = result.ratio
    if check is None:
        return ["split check: too few people yet to judge whether the arms get their share"]
    if math.isinf(check.chi2):
        stopped = [a.arm for a in result.arms if a.weight == 0 and a.exposures]
        return [
            f"split check: not possible, {', '.join(stopped)} has weight 0 now but people "
            "saw it: the weights changed during the experiment, and the split can only be "
            "judged against the weights it ran with"
        ]
    hidden = any(0 < t.exposures < SMALL for t in tallies)
    p = "" if hidden else f" (chi-square p {_p(check.p_value)})"
    if not check.mismatch:
        return [f"split check: as the weights expect{p}"]
    total = sum(t.exposures for t in tallies)
    got = " / ".join(HIDDEN if 0 < t.exposures < SMALL else str(t.exposures) for t in tallies)
    expected = " / ".join(f"{a.weight * total:.0f}" for a in result.arms)
    return [
        f"WARNING: sample ratio mismatch: the arms got {got} people where the weights "
        f"expect {expected}{p}: a split this uneven happens by chance less than once in a "
        "thousand experiments.",
        "Assignment or exposure logging is broken somewhere (a variant that fails to show, "
        "a changed weight, a bot that restarted on other dialogs): do not trust the "
        "comparison until the cause is found.",
    ]


def _already_line(tallies: Sequence[ArmTally]) -> list[str]:
    already = sum(t.already for t in tallies)
    if not already:
        return []
    count = HIDDEN if already < SMALL else str(already)
    return [
        f"{count} people had reached the outcome before their first exposure: "
        "they count as exposed, not converted"
    ]


def _percent(share: float) -> str:
    return f"{share * 100:.1f} %"


def _points(diff: float) -> str:
    return f"{diff * 100:+.1f} pts"


def _p(p: float) -> str:
    """'= 0.035', '< 0.001'; never rounded across the 0.05 bar."""
    if p < 0.001:
        return "< 0.001"
    shown = f"{p:.3f}"
    if (float(shown) < ALPHA) != (p < ALPHA):
        shown = f"{p:.4f}"
    return f"= {shown}"

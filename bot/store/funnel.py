"""The funnel: how far the people who started in a window went (`vie-coach stats`, /stats).

Read from the counters migration 0006 keeps by triggers (`bot.store.funnel_sql`): a few
queries over the window's cohort days, whatever the number of people. Days are UTC
calendar days: `since=30d` is today and the 29 days before; someone "went quiet" when
their last own action was `quiet_after` (in whole days) or more before today and they
have not finished the journey.

Privacy: only counts leave this module, never a person's text or id; an advocate is
named (first name) only when they chose to be public (`users.public = 1`), otherwise by
their rank ("advocate #3"); a group of fewer than `SMALL` people is `hidden`, and the
renderers show "< 5" for every figure of it. /forget takes the person out of every
counter (one anonymous erasure is counted for their cohort day and language).
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

from bot.core.model import STAGES
from bot.errors import ConfigError
from bot.store import funnel_sql as sql
from bot.store.queues import dialect_of

FetchAll = Callable[[str, Sequence[Any]], Awaitable[list[Any]]]

SMALL = 5  # groups of fewer people show "< 5"
BY = ("advocate", "cohort", "language", "variant")
ADVOCATE_ROWS = 10  # advocates shown one by one (5 people or more); the rest together
PAIRS = tuple(f"{a}>{b}" for a, b in pairwise(STAGES))


class StatsError(ConfigError):
    """A statistics request that cannot be answered as asked (the message says why)."""


@dataclass(frozen=True, slots=True)
class Span:
    """A median duration as the range of hours it falls in (`high` None: open-ended)."""

    low: int
    high: int | None


@dataclass(frozen=True, slots=True)
class Group:
    """The figures of one group of people who started in the window.

    `kind`: all, language, cohort, variant, public (an advocate's first name), advocate
    (`label` is their rank by size), others (advocates shown together; `label` says how
    many), left (their advocate erased their data), nobody (nobody invited them)."""

    kind: str
    label: str
    started: int
    milestones: tuple[tuple[str, int], ...]
    stages: tuple[tuple[str, int], ...]
    quiet: int  # not finished, no own action for quiet_after
    quiet_days: int | None  # median days from the start to their last own action
    stopped: int  # reminders switched off (users.reminders = 0)
    erased: int | None  # /forget (None: not kept for this kind of group)
    reminders: int  # reminders sent
    came_back: int  # of them, followed by the person's own action within a day
    to_stage: tuple[tuple[str, Span | None], ...]  # median time from the start
    between: tuple[tuple[str, Span | None], ...]  # median time from one stage to the next

    @property
    def hidden(self) -> bool:
        return self.started < SMALL

    @property
    def came_back_share(self) -> float | None:
        return self.came_back / self.reminders if self.reminders else None


@dataclass(frozen=True, slots=True)
class Funnel:
    now: datetime
    first_day: date
    last_day: date
    quiet_after_days: int
    by: str | None
    total: Group
    groups: tuple[Group, ...]
    drop_off: tuple[tuple[str, int], ...]  # flow.node, people who went quiet there
    empty: bool  # nobody was ever in the database

    @property
    def milestones(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.total.milestones)


def whole_days(duration: timedelta) -> int:
    """A duration in calendar days, rounded up (at least 1)."""
    return max(1, math.ceil(duration / timedelta(days=1)))


async def read_funnel(
    fetch_all: FetchAll,
    now: datetime,
    since: timedelta,
    by: str | None = None,
    *,
    quiet_after: timedelta = timedelta(days=7),
    top_nodes: int = 8,
    dialect: str | None = None,
) -> Funnel:
    """The funnel of the people who started within `since` before `now`, split `by`
    advocate, cohort (ISO week), language (at the start) or variant (experiment/arm).
    The SQL is the dialect's (by default that of the store `fetch_all` belongs to)."""
    q = sql.QUERIES[dialect or dialect_of(fetch_all)]
    if by is not None and by not in BY:
        raise StatsError(f"cannot split the funnel by {by!r}: choose one of {', '.join(BY)}")
    today = now.date()
    first = today - timedelta(days=whole_days(since) - 1)
    quiet_days = whole_days(quiet_after)
    cutoff = today - timedelta(days=quiet_days)
    days = [(first + timedelta(days=i)).isoformat() for i in range((today - first).days + 1)]
    quiet = [d for d in days if d <= cutoff.isoformat()]
    window = (json.dumps(days), json.dumps(quiet), cutoff.isoformat())
    total_rows = await fetch_all(q.total, window)
    totals = _sums(total_rows).get("", {})
    names = _milestone_names(totals)
    total = _group("all", "", totals, names, erased=True)
    groups: tuple[Group, ...] = ()
    if by == "language":
        by_lang = _sums(await fetch_all(q.by_language, window))
        ordered = sorted(by_lang.items(), key=lambda kv: (-kv[1].get(sql.STARTED, 0), kv[0]))
        groups = tuple(_group("language", k, m, names, erased=True) for k, m in ordered)
    elif by == "cohort":
        weeks: dict[str, dict[str, int]] = {}
        for day, metrics in _sums(await fetch_all(q.by_day, window)).items():
            year, week, _ = date.fromisoformat(day).isocalendar()
            _add(weeks.setdefault(f"{year}-W{week:02d}", {}), metrics)
        groups = tuple(_group("cohort", k, m, names, erased=True) for k, m in sorted(weeks.items()))
    elif by == "advocate":
        groups = await _advocates(fetch_all, q, window, names)
    elif by == "variant":
        by_arm = _sums(await fetch_all(q.by_variant, window))
        groups = tuple(
            _group("variant", k, m, names, erased=False) for k, m in sorted(by_arm.items())
        )
    drop: list[tuple[str, int]] = []
    if total.quiet:
        drop = _drop_off(await fetch_all(q.drop_off, window[1:2] + window[1:]), top_nodes)
    empty = False
    if not total.started and not total.erased:
        (row,) = await fetch_all(q.anyone, ())
        empty = not row[0]
    return Funnel(
        now=now,
        first_day=first,
        last_day=today,
        quiet_after_days=quiet_days,
        by=by,
        total=total,
        groups=groups,
        drop_off=tuple(drop),
        empty=empty,
    )


def _drop_off(rows: Iterable[Sequence[Any]], top: int) -> list[tuple[str, int]]:
    """The nodes where most of the people who went quiet stand: everyone not finished
    there minus those active after the cut-off."""
    quiet: dict[str, int] = {}
    for part, node, n in rows:
        quiet[str(node)] = quiet.get(str(node), 0) + (int(n) if part == "all" else -int(n))
    ranked = sorted(((node, n) for node, n in quiet.items() if n > 0), key=lambda x: (-x[1], x[0]))
    return ranked[:top]


def _sums(rows: Iterable[Sequence[Any]]) -> dict[str, dict[str, int]]:
    """(group, metric, n) rows as {group: {metric: n}} (groups as text)."""
    out: dict[str, dict[str, int]] = {}
    for group, metric, n in rows:
        out.setdefault(str(group), {})[str(metric)] = int(n)
    return out


def _add(into: dict[str, int], metrics: Mapping[str, int]) -> None:
    for metric, n in metrics.items():
        into[metric] = into.get(metric, 0) + n


def _milestone_names(totals: Mapping[str, int]) -> tuple[str, ...]:
    """The milestones reached, most reached first (then by name)."""
    found = [(n, m[len(sql.MILESTONE) :]) for m, n in totals.items() if m.startswith(sql.MILESTONE)]
    return tuple(name for n, name in sorted(found, key=lambda f: (-f[0], f[1])) if n > 0)


def _group(
    kind: str, label: str, metrics: Mapping[str, int], names: Sequence[str], *, erased: bool
) -> Group:
    quiet = {int(m[len(sql.QUIET) :]): n for m, n in metrics.items() if m.startswith(sql.QUIET)}
    return Group(
        kind=kind,
        label=label,
        started=metrics.get(sql.STARTED, 0),
        milestones=tuple((name, metrics.get(sql.MILESTONE + name, 0)) for name in names),
        stages=tuple((s, metrics.get(sql.STAGE + s, 0)) for s in STAGES),
        quiet=sum(quiet.values()),
        quiet_days=_lower_median(quiet),
        stopped=metrics.get(sql.OFF, 0),
        erased=metrics.get(sql.ERASED, 0) if erased else None,
        reminders=metrics.get(sql.NUDGES, 0),
        came_back=metrics.get(sql.BACK, 0),
        to_stage=tuple((s, _median_span(metrics, f"{sql.TO_STAGE}{s}:")) for s in STAGES),
        between=tuple((p, _median_span(metrics, f"{sql.BETWEEN}{p}:")) for p in PAIRS),
    )


def _lower_median(counts: Mapping[int, int]) -> int | None:
    """The value at rank ceil(n / 2) of a histogram {value: people} (None when empty)."""
    total = sum(n for n in counts.values() if n > 0)
    if total == 0:
        return None
    rank, seen = (total + 1) // 2, 0
    for value in sorted(counts):
        seen += max(0, counts[value])
        if seen >= rank:
            return value
    return None  # pragma: no cover - the ranks add up to total


def _median_span(metrics: Mapping[str, int], prefix: str) -> Span | None:
    buckets = {int(m[len(prefix) :]): n for m, n in metrics.items() if m.startswith(prefix)}
    bucket = _lower_median(buckets)
    return None if bucket is None else Span(*sql.span(bucket))


async def _advocates(
    fetch_all: FetchAll, q: sql.Queries, window: tuple[str, str, str], names: Sequence[str]
) -> tuple[Group, ...]:
    """One group per advocate with 5 friends or more in the window (at most
    ADVOCATE_ROWS, the largest), the others together, then the friends of advocates who
    left, then the people nobody invited."""
    sums = {int(k): m for k, m in _sums(await fetch_all(q.by_advocate, window)).items()}
    ranked = sorted(
        (a for a in sums if a > 0 and sums[a].get(sql.STARTED, 0) > 0),
        key=lambda a: (-sums[a].get(sql.STARTED, 0), a),
    )
    shown = [a for a in ranked[:ADVOCATE_ROWS] if sums[a].get(sql.STARTED, 0) >= SMALL]
    public: dict[int, str] = {}
    if shown:
        rows = await fetch_all(q.advocates, (json.dumps(shown),))
        public = {int(uid): str(name) for uid, name, is_public in rows if is_public and name}
    groups = []
    for rank, advocate in enumerate(shown, start=1):
        if advocate in public:
            groups.append(_group("public", public[advocate], sums[advocate], names, erased=False))
        else:
            groups.append(_group("advocate", str(rank), sums[advocate], names, erased=False))
    rest = [a for a in ranked if a not in set(shown)]
    if rest:
        together: dict[str, int] = {}
        for advocate in rest:
            _add(together, sums[advocate])
        groups.append(_group("others", str(len(rest)), together, names, erased=False))
    for key, kind in ((sql.LEFT, "left"), (sql.NOBODY, "nobody")):
        if sums.get(key, {}).get(sql.STARTED, 0) > 0:
            groups.append(_group(kind, "", sums[key], names, erased=False))
    return tuple(groups)

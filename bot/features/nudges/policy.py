"""When a follow-up nudge to someone who drifted away may be sent.

A pushy nudge loses a reluctant person for good, so the rules are strict: never in the
person's quiet hours, at most a few per rolling week, slower after each ignored one, none
at all once they stop answering. Every function here is pure: the current time is always
an argument, nothing reads the clock, does I/O or draws random numbers, so the policy can
be tested exhaustively without sleeping. Instants are timezone-aware; results are in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEK = timedelta(days=7)
MAX_DELAY = timedelta(days=60)

_MICROSECOND = timedelta(microseconds=1)
# Spreads overdue nudges: odd and coprime with 3600, so keys 0..3599 get distinct seconds.
_SPREAD_MULTIPLIER = 2654435761
# Real zones change offset at most twice a day; this bound only guards against bad data.
_MAX_STRETCHES = 16


@dataclass(frozen=True, slots=True)
class NudgePolicy:
    """How strict nudging is; the defaults are the product's rules."""

    quiet_start: time = time(21, 0)  # local wall time in the person's timezone
    quiet_end: time = time(9, 0)  # may cross midnight; equal to quiet_start = no quiet hours
    weekly_cap: int = 3  # at most this many nudges in any rolling 7 days
    dormant_after: int = 3  # this many ignored nudges in a row: no more nudges
    grace: timedelta = timedelta(hours=6)  # overdue by more than this (downtime): moved
    spread: timedelta = timedelta(hours=1)  # how widely moved overdue nudges are spread
    backoff: bool = True  # each ignored nudge doubles the next delay

    def __post_init__(self) -> None:
        # Rejected here rather than misbehaving later: a cap of 0 would make
        # next_allowed search forever, and aware times cannot be compared to wall times.
        if self.quiet_start.tzinfo is not None or self.quiet_end.tzinfo is not None:
            raise ValueError("quiet_start and quiet_end must be naive local times")
        if self.weekly_cap < 1:
            raise ValueError(f"weekly_cap must be at least 1, got {self.weekly_cap}")
        if self.dormant_after < 0:
            raise ValueError(f"dormant_after must not be negative, got {self.dormant_after}")
        if self.grace < timedelta(0) or self.spread < timedelta(0):
            raise ValueError("grace and spread must not be negative")


@dataclass(frozen=True, slots=True)
class NudgeHistory:
    """What happened with earlier nudges to one person."""

    sent_at: tuple[datetime, ...] = ()  # when nudges were sent, any order
    ignored_in_a_row: int = 0  # nudges sent since the person last wrote or pressed anything
    stopped: bool = False  # /stop
    blocked: bool = False  # blocked the bot on Telegram

    def __post_init__(self) -> None:
        for sent in self.sent_at:
            _utc(sent, "sent_at")
        if self.ignored_in_a_row < 0:
            raise ValueError(f"ignored_in_a_row must not be negative, got {self.ignored_in_a_row}")


@dataclass(frozen=True, slots=True)
class Send:
    """Decision: send the nudge now."""


@dataclass(frozen=True, slots=True)
class Defer:
    """Decision: try again at `until` (UTC)."""

    until: datetime
    reason: str  # "quiet_hours" | "weekly_cap" | "overdue" | "not_due"


@dataclass(frozen=True, slots=True)
class Drop:
    """Decision: never send this nudge."""

    reason: str  # "stopped" | "blocked" | "dormant"


Decision = Send | Defer | Drop


def is_quiet(moment: datetime, tz: ZoneInfo, policy: NudgePolicy) -> bool:
    """Whether `moment` falls in the quiet hours of someone living in `tz`."""
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return False
    wall = _utc(moment, "moment").astimezone(tz).time()
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end  # the window crosses midnight


def quiet_ends(moment: datetime, tz: ZoneInfo, policy: NudgePolicy) -> datetime:
    """The first instant at or after `moment` outside quiet hours (UTC)."""
    current = _utc(moment, "moment")
    # While the UTC offset stays the same, wall time moves in step with UTC, so quiet hours
    # can only end at the next wall-clock quiet_end or at a DST change. Walking those
    # stretches gives the right answer when quiet_end is skipped (first valid instant after
    # it: the change itself) or repeated (its first occurrence, fold=0).
    for _ in range(_MAX_STRETCHES):
        if not is_quiet(current, tz, policy):
            return current
        offset = _offset(current, tz)
        wall = (current + offset).replace(tzinfo=None)
        end = datetime.combine(wall.date(), policy.quiet_end)
        if end <= wall:
            end += timedelta(days=1)
        candidate = (end - offset).replace(tzinfo=UTC)
        if _offset(candidate, tz) == offset:
            current = candidate
        else:
            current = _next_offset_change(current, candidate, tz)
    raise RuntimeError(f"no end of quiet hours found after {moment.isoformat()} in {tz}")


def delay_for(base: timedelta, history: NudgeHistory, policy: NudgePolicy) -> timedelta:
    """The wait before the next nudge: doubled for each ignored one, at most 60 days."""
    if base < timedelta(0):
        raise ValueError(f"base delay must not be negative, got {base}")
    exponent = history.ignored_in_a_row if policy.backoff else 0
    # Integer microseconds cannot overflow; 2**64 µs is far beyond the 60-day cap anyway.
    micros = (base // _MICROSECOND) << min(exponent, 64)
    return timedelta(microseconds=min(micros, MAX_DELAY // _MICROSECOND))


def next_allowed(
    earliest: datetime, history: NudgeHistory, tz: ZoneInfo, policy: NudgePolicy
) -> datetime:
    """The first instant at or after `earliest` outside quiet hours and under the cap."""
    current = _utc(earliest, "earliest")
    sends = _sorted_sends(history)
    # Each pass either returns or jumps past a send for good (it leaves the window and
    # never returns, as time only moves forward), so len(sends) + 1 passes always suffice.
    for _ in range(len(sends) + 2):
        current = quiet_ends(current, tz, policy)
        frees_at = _cap_frees_at(current, sends, policy)
        if frees_at is None:
            return current
        current = frees_at
    raise RuntimeError("next_allowed did not settle")  # unreachable, see above


def schedule(
    since: datetime,
    base: timedelta,
    history: NudgeHistory,
    tz: ZoneInfo,
    policy: NudgePolicy,
) -> datetime | None:
    """When the next nudge is due for someone who reached a step at `since`, or None."""
    if _drop_reason(history, policy) is not None:
        return None
    earliest = _utc(since, "since") + delay_for(base, history, policy)
    return next_allowed(earliest, history, tz, policy)


def decide(
    due: datetime,
    now: datetime,
    history: NudgeHistory,
    tz: ZoneInfo,
    policy: NudgePolicy,
    *,
    spread_key: int = 0,
) -> Decision:
    """What to do with a nudge that was due at `due`, now that it is `now`."""
    due, now = _utc(due, "due"), _utc(now, "now")
    # Dropping comes first, even for an early call: once someone has stopped, blocked
    # the bot or gone quiet, nothing about timing can make a nudge welcome.
    reason = _drop_reason(history, policy)
    if reason is not None:
        return Drop(reason)
    if now < due:
        return Defer(due, "not_due")
    if now - due > policy.grace:
        # After downtime, spread the backlog over `spread` from the first allowed instant,
        # so nudges that queued up are not all fired at once (nor at the end of the night).
        start = next_allowed(now, history, tz, policy)
        return Defer(
            next_allowed(start + _spread_offset(spread_key, policy), history, tz, policy), "overdue"
        )
    if is_quiet(now, tz, policy):
        return Defer(next_allowed(now, history, tz, policy), "quiet_hours")
    if _cap_frees_at(now, _sorted_sends(history), policy) is not None:
        return Defer(next_allowed(now, history, tz, policy), "weekly_cap")
    return Send()


def _utc(moment: datetime, name: str) -> datetime:
    """`moment` in UTC; a naive datetime is a bug in the caller, so it is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)


def _offset(moment: datetime, tz: ZoneInfo) -> timedelta:
    return moment.astimezone(tz).utcoffset() or timedelta(0)


def _next_offset_change(start: datetime, end: datetime, tz: ZoneInfo) -> datetime:
    """The first instant in (start, end] whose UTC offset differs from start's.

    zoneinfo exposes no transition list, so bisect; ~40 steps for a day to the microsecond.
    """
    before = _offset(start, tz)
    low, high = 0, (end - start) // _MICROSECOND
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(start + middle * _MICROSECOND, tz) == before:
            low = middle
        else:
            high = middle
    return start + high * _MICROSECOND


def _sorted_sends(history: NudgeHistory) -> list[datetime]:
    return sorted(_utc(sent, "sent_at") for sent in history.sent_at)


def _cap_frees_at(moment: datetime, sends: list[datetime], policy: NudgePolicy) -> datetime | None:
    """None if a nudge at `moment` stays under the cap, else when it could first be.

    The window is (moment - 7 days, moment]: a send exactly 7 days old no longer counts.
    """
    recent = [sent for sent in sends if moment - WEEK < sent <= moment]
    if len(recent) < policy.weekly_cap:
        return None
    # Until this send leaves the window, `weekly_cap` sends are in it at every instant.
    return recent[len(recent) - policy.weekly_cap] + WEEK


def _drop_reason(history: NudgeHistory, policy: NudgePolicy) -> str | None:
    if history.stopped:
        return "stopped"
    if history.blocked:
        return "blocked"
    if history.ignored_in_a_row >= policy.dormant_after:
        return "dormant"
    return None


def _spread_offset(spread_key: int, policy: NudgePolicy) -> timedelta:
    """A deterministic offset in [0, spread), whole seconds, from `spread_key`."""
    seconds = int(policy.spread.total_seconds())
    if seconds <= 0:
        return timedelta(0)
    return timedelta(seconds=(spread_key * _SPREAD_MULTIPLIER) % seconds)

"""The nudge policy: pure functions of `now`, so every case is a table row, no clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.durations import parse_duration
from bot.core.localtime import default_timezone
from bot.features.nudges.policy import (
    MAX_DELAY,
    WEEK,
    Defer,
    Drop,
    NudgeHistory,
    NudgePolicy,
    Send,
    decide,
    delay_for,
    is_quiet,
    next_allowed,
    quiet_ends,
    schedule,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
ZONES = (
    PARIS,
    NEW_YORK,
    LONDON,
    ZoneInfo("UTC"),
    ZoneInfo("Asia/Kolkata"),  # +05:30, no DST
    ZoneInfo("Australia/Lord_Howe"),  # DST shifts by 30 minutes
)
POLICY = NudgePolicy()
NOON = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)  # a Wednesday, not quiet in UTC or Paris
US = timedelta(microseconds=1)


def local(
    tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0
) -> datetime:
    """A wall time in `tz`, as the UTC instant the API takes."""
    return datetime(year, month, day, hour, minute, tzinfo=tz, fold=fold).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def sends(*moments: datetime, ignored: int = 0) -> NudgeHistory:
    return NudgeHistory(sent_at=moments, ignored_in_a_row=ignored)


def in_window(moment: datetime, history: NudgeHistory) -> int:
    """Independent oracle for the cap: sends in the 7 days ending at `moment`."""
    return sum(1 for sent in history.sent_at if moment - WEEK < sent <= moment)


# --- parse_duration, default_timezone -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("3h", timedelta(hours=3)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1w2d3h4m", timedelta(weeks=1, days=2, hours=3, minutes=4)),
        ("90m", timedelta(minutes=90)),
        ("0d3h", timedelta(hours=3)),
        ("365d", timedelta(days=365)),
        ("52w", timedelta(weeks=52)),
    ],
)
def test_parse_duration_accepts(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "expected"),
        ("2x", "expected"),
        ("3", "expected"),
        ("h", "expected"),
        ("-3h", "expected"),
        ("+3h", "expected"),
        ("1.5h", "expected"),
        ("3 h", "expected"),
        (" 3h", "expected"),
        ("3h\n", "expected"),
        ("3H", "expected"),
        ("12h1d", "expected"),  # largest unit first
        ("1h2h", "expected"),
        ("٣h", "expected"),  # non-ASCII digits
        ("9999999999d", "expected"),
        ("0d", "longer than zero"),
        ("0m", "longer than zero"),
        ("0w0d", "longer than zero"),
        ("366d", "at most 365 days"),
        ("53w", "at most 365 days"),
        ("365d1m", "at most 365 days"),
        ("999999999w", "at most 365 days"),
    ],
)
def test_parse_duration_refuses_with_a_message_naming_the_text(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why) as raised:
        parse_duration(text)
    assert repr(text) in str(raised.value)


@pytest.mark.parametrize(
    ("language", "zone"),
    [("fr", "Europe/Paris"), ("en", "Europe/London"), ("de", "UTC"), ("", "UTC")],
)
def test_default_timezone(language: str, zone: str) -> None:
    assert default_timezone(language) == ZoneInfo(zone)


# --- quiet hours -------------------------------------------------------------------------

WALL_TIMES = [((20, 59), False), ((21, 0), True), ((3, 0), True), ((8, 59), True), ((9, 0), False)]


@pytest.mark.parametrize("tz", [PARIS, NEW_YORK], ids=str)
@pytest.mark.parametrize("day", [(2026, 1, 15), (2026, 7, 15)], ids=["winter", "summer"])
@pytest.mark.parametrize(
    ("wall", "quiet"), WALL_TIMES, ids=[f"{h:02}:{m:02}" for (h, m), _ in WALL_TIMES]
)
def test_quiet_hours_across_midnight(
    tz: ZoneInfo, day: tuple[int, int, int], wall: tuple[int, int], quiet: bool
) -> None:
    assert is_quiet(local(tz, *day, *wall), tz, POLICY) is quiet


@pytest.mark.parametrize(
    ("wall", "quiet"),
    [((12, 59), False), ((13, 0), True), ((13, 30), True), ((14, 0), False), ((3, 0), False)],
)
def test_quiet_hours_not_crossing_midnight(wall: tuple[int, int], quiet: bool) -> None:
    policy = NudgePolicy(quiet_start=time(13, 0), quiet_end=time(14, 0))
    assert is_quiet(local(PARIS, 2026, 1, 15, *wall), PARIS, policy) is quiet


@pytest.mark.parametrize("hour", [0, 9, 13, 21, 23])
def test_equal_start_and_end_means_no_quiet_hours(hour: int) -> None:
    policy = NudgePolicy(quiet_start=time(9, 0), quiet_end=time(9, 0))
    assert not is_quiet(local(PARIS, 2026, 1, 15, hour), PARIS, policy)
    assert quiet_ends(local(PARIS, 2026, 1, 15, hour), PARIS, policy) == local(
        PARIS, 2026, 1, 15, hour
    )


def test_quiet_hours_use_the_persons_wall_clock_not_utc() -> None:
    # 19:30 UTC is 21:30 in Paris in summer (quiet) but 20:30 in London (not quiet).
    assert is_quiet(utc(2026, 7, 15, 19, 30), PARIS, POLICY)
    assert not is_quiet(utc(2026, 7, 15, 19, 30), LONDON, POLICY)


@pytest.mark.parametrize(
    ("tz", "moment", "expected"),
    [
        # winter: 09:00 Paris = 08:00 UTC; from 23:00 the end is the next morning
        (PARIS, local(PARIS, 2026, 1, 15, 23), utc(2026, 1, 16, 8)),
        (PARIS, local(PARIS, 2026, 1, 16, 2), utc(2026, 1, 16, 8)),
        (PARIS, local(PARIS, 2026, 1, 16, 21), utc(2026, 1, 17, 8)),
        (PARIS, local(PARIS, 2026, 1, 16, 0), utc(2026, 1, 16, 8)),
        # summer: 09:00 Paris = 07:00 UTC
        (PARIS, local(PARIS, 2026, 7, 15, 23), utc(2026, 7, 16, 7)),
        (PARIS, local(PARIS, 2026, 7, 16, 2), utc(2026, 7, 16, 7)),
        # 09:00 New York = 14:00 UTC in winter, 13:00 UTC in summer
        (NEW_YORK, local(NEW_YORK, 2026, 1, 15, 23), utc(2026, 1, 16, 14)),
        (NEW_YORK, local(NEW_YORK, 2026, 7, 16, 2), utc(2026, 7, 16, 13)),
        # not quiet: the moment itself
        (PARIS, local(PARIS, 2026, 1, 15, 12), local(PARIS, 2026, 1, 15, 12)),
        (PARIS, local(PARIS, 2026, 1, 15, 9), local(PARIS, 2026, 1, 15, 9)),
    ],
)
def test_quiet_ends(tz: ZoneInfo, moment: datetime, expected: datetime) -> None:
    end = quiet_ends(moment, tz, POLICY)
    assert end == expected
    assert end.tzinfo is UTC


def test_quiet_ends_accepts_any_aware_moment_and_answers_in_utc() -> None:
    moment = datetime(2026, 1, 15, 23, 0, tzinfo=PARIS)  # not converted to UTC first
    end = quiet_ends(moment, PARIS, POLICY)
    assert end == utc(2026, 1, 16, 8)
    assert end.tzinfo is UTC


def test_quiet_ends_in_a_window_not_crossing_midnight() -> None:
    policy = NudgePolicy(quiet_start=time(13, 0), quiet_end=time(14, 0))
    assert quiet_ends(local(PARIS, 2026, 1, 15, 13, 30), PARIS, policy) == utc(2026, 1, 15, 13)


# --- daylight saving time: Europe/Paris 2026-03-29 (02:00 -> 03:00), 2026-10-25 (03:00 -> 02:00)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # the night before spring forward: still winter time at 09:00 on the 28th
        (local(PARIS, 2026, 3, 28, 2), utc(2026, 3, 28, 8)),
        # across the change: 09:00 on the 29th is summer time, 07:00 UTC
        (local(PARIS, 2026, 3, 28, 23), utc(2026, 3, 29, 7)),
        (local(PARIS, 2026, 3, 29, 1, 30), utc(2026, 3, 29, 7)),
        (local(PARIS, 2026, 3, 29, 3, 30), utc(2026, 3, 29, 7)),
        # the night before fall back: still summer time at 09:00 on the 24th
        (local(PARIS, 2026, 10, 24, 2), utc(2026, 10, 24, 7)),
        # across the change: 09:00 on the 25th is winter time, 08:00 UTC
        (local(PARIS, 2026, 10, 24, 23), utc(2026, 10, 25, 8)),
        (local(PARIS, 2026, 10, 25, 2, 30, fold=0), utc(2026, 10, 25, 8)),
        (local(PARIS, 2026, 10, 25, 2, 30, fold=1), utc(2026, 10, 25, 8)),
    ],
)
def test_quiet_ends_on_dst_change_days(moment: datetime, expected: datetime) -> None:
    assert quiet_ends(moment, PARIS, POLICY) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # 02:30 does not exist on 2026-03-29: the first valid instant after it is the
        # change itself, 03:00 CEST = 01:00 UTC
        (local(PARIS, 2026, 3, 28, 23), utc(2026, 3, 29, 1)),
        (local(PARIS, 2026, 3, 29, 1, 59), utc(2026, 3, 29, 1)),
        # on a normal day 02:30 CET is 01:30 UTC
        (local(PARIS, 2026, 3, 27, 23), utc(2026, 3, 28, 1, 30)),
    ],
)
def test_quiet_end_in_the_spring_gap_resolves_to_the_first_valid_instant(
    moment: datetime, expected: datetime
) -> None:
    policy = NudgePolicy(quiet_start=time(21, 0), quiet_end=time(2, 30))
    end = quiet_ends(moment, PARIS, policy)
    assert end == expected
    assert not is_quiet(end, PARIS, policy)
    assert is_quiet(end - US, PARIS, policy)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # 02:30 happens twice on 2026-10-25: the first occurrence (CEST, 00:30 UTC)
        (local(PARIS, 2026, 10, 24, 23), utc(2026, 10, 25, 0, 30)),
        # already inside the repeated hour, quiet again by the wall clock: the second one
        (local(PARIS, 2026, 10, 25, 2, 10, fold=1), utc(2026, 10, 25, 1, 30)),
    ],
)
def test_quiet_end_in_the_repeated_hour_is_its_first_occurrence(
    moment: datetime, expected: datetime
) -> None:
    policy = NudgePolicy(quiet_start=time(21, 0), quiet_end=time(2, 30))
    assert quiet_ends(moment, PARIS, policy) == expected


def test_quiet_hours_left_by_the_clock_going_back() -> None:
    # Quiet 02:30-03:00: at 02:59 CEST the clock goes back to 02:00 CET, which is not quiet,
    # so the quiet hours end then (01:00 UTC), not at the later 03:00 CET.
    policy = NudgePolicy(quiet_start=time(2, 30), quiet_end=time(3, 0))
    assert quiet_ends(local(PARIS, 2026, 10, 25, 2, 40), PARIS, policy) == utc(2026, 10, 25, 1)


# --- weekly cap -------------------------------------------------------------------------

D = timedelta(days=1)


@pytest.mark.parametrize(
    ("sent_days", "earliest_day", "expected_day"),
    [
        ((0, 1, 2), 3, 7),  # 3 sends in 7 days: wait until the oldest is 7 days old
        ((2, 0, 1), 3, 7),  # any order
        ((0, 1, 2), 7, 7),  # exactly 7 days old: no longer counts
        ((0, 1, 2), 8, 8),
        ((0, 1), 3, 3),  # under the cap
        ((0, 0.125, 1, 2), 3, 7.125),  # 4 sends: wait until two have left the window
        ((-8, -7, -1, 0), 0, 0),  # older than 7 days (or exactly 7): ignored
        ((), 3, 3),
    ],
)
def test_weekly_cap(sent_days: tuple[float, ...], earliest_day: float, expected_day: float) -> None:
    history = sends(*(NOON + d * D for d in sent_days))
    assert next_allowed(NOON + earliest_day * D, history, PARIS, POLICY) == NOON + expected_day * D


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (NOON + 7 * D - US, Defer(NOON + 7 * D, "weekly_cap")),
        (NOON + 7 * D, Send()),
    ],
    ids=["a microsecond before 7 days", "exactly 7 days"],
)
def test_weekly_cap_boundary_in_decide(now: datetime, expected: object) -> None:
    history = sends(NOON, NOON + D, NOON + 2 * D)
    assert decide(now - timedelta(minutes=1), now, history, PARIS, POLICY) == expected


def test_weekly_cap_of_one() -> None:
    policy = NudgePolicy(weekly_cap=1)
    assert next_allowed(NOON + D, sends(NOON), PARIS, policy) == NOON + 7 * D


# --- back-off -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ignored", "backoff", "base", "expected"),
    [
        (0, True, 2 * D, 2 * D),
        (1, True, 2 * D, 4 * D),
        (2, True, 2 * D, 8 * D),
        (2, False, 2 * D, 2 * D),
        (4, True, 2 * D, 32 * D),
        (5, True, 2 * D, 60 * D),  # 64 days, capped
        (10**6, True, timedelta(minutes=1), 60 * D),  # no overflow
        (50, True, US, 60 * D),
        (0, True, 90 * D, 60 * D),
        (0, True, timedelta(0), timedelta(0)),
    ],
)
def test_delay_for(ignored: int, backoff: bool, base: timedelta, expected: timedelta) -> None:
    policy = NudgePolicy(backoff=backoff)
    assert delay_for(base, NudgeHistory(ignored_in_a_row=ignored), policy) == expected
    assert MAX_DELAY == 60 * D


def test_schedule_applies_the_backoff_then_the_rules() -> None:
    since = NOON
    assert schedule(since, 2 * D, NudgeHistory(), PARIS, POLICY) == since + 2 * D
    assert schedule(since, 2 * D, sends(ignored=2), PARIS, POLICY) == since + 8 * D
    # 22:00 UTC is 23:00 in Paris: moved to 09:00 Paris the next morning
    late = utc(2026, 1, 14, 22)
    assert schedule(late, 2 * D, NudgeHistory(), PARIS, POLICY) == utc(2026, 1, 17, 8)


# --- dormancy, /stop, blocked ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "reason"),
    [
        (NudgeHistory(stopped=True), "stopped"),
        (NudgeHistory(blocked=True), "blocked"),
        (NudgeHistory(ignored_in_a_row=3), "dormant"),
        (NudgeHistory(ignored_in_a_row=7), "dormant"),
        (NudgeHistory(stopped=True, blocked=True, ignored_in_a_row=3), "stopped"),
        (NudgeHistory(blocked=True, ignored_in_a_row=3), "blocked"),
        (NudgeHistory(stopped=True, ignored_in_a_row=3), "stopped"),
    ],
)
@pytest.mark.parametrize(
    ("due", "now"),
    [
        (NOON, NOON),  # would be sent
        (NOON + D, NOON),  # early
        (NOON - D, NOON),  # overdue
        (utc(2026, 1, 14, 23), utc(2026, 1, 14, 23)),  # quiet hours in Paris
    ],
    ids=["due", "early", "overdue", "quiet"],
)
def test_drop_comes_first_in_precedence(
    history: NudgeHistory, reason: str, due: datetime, now: datetime
) -> None:
    assert decide(due, now, history, PARIS, POLICY) == Drop(reason)
    assert schedule(now, 2 * D, history, PARIS, POLICY) is None


@pytest.mark.parametrize(("dormant_after", "ignored"), [(3, 2), (1, 0), (5, 4)])
def test_not_yet_dormant(dormant_after: int, ignored: int) -> None:
    policy = NudgePolicy(dormant_after=dormant_after)
    history = NudgeHistory(ignored_in_a_row=ignored)
    assert decide(NOON, NOON, history, PARIS, policy) == Send()
    assert schedule(NOON, D, history, PARIS, policy) is not None


def test_dormant_after_zero_never_nudges() -> None:
    policy = NudgePolicy(dormant_after=0)
    assert decide(NOON, NOON, NudgeHistory(), PARIS, policy) == Drop("dormant")


def test_not_due_yet() -> None:
    assert decide(NOON + D, NOON, NudgeHistory(), PARIS, POLICY) == Defer(NOON + D, "not_due")


# --- overdue after downtime ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("late_by", "overdue"),
    [(timedelta(hours=10), True), (timedelta(hours=6) + US, True), (timedelta(hours=6), False)],
)
def test_overdue_only_beyond_grace(late_by: timedelta, overdue: bool) -> None:
    decision = decide(NOON - late_by, NOON, NudgeHistory(), PARIS, POLICY, spread_key=7)
    if overdue:
        assert isinstance(decision, Defer)
        assert decision.reason == "overdue"
        assert NOON <= decision.until < NOON + POLICY.spread
    else:
        assert decision == Send()


def test_overdue_nudges_are_spread_deterministically() -> None:
    due = NOON - timedelta(hours=10)
    untils = []
    for key in range(50):
        decision = decide(due, NOON, NudgeHistory(), PARIS, POLICY, spread_key=key)
        assert isinstance(decision, Defer)
        assert decision.reason == "overdue"
        assert NOON <= decision.until < NOON + POLICY.spread
        assert decide(due, NOON, NudgeHistory(), PARIS, POLICY, spread_key=key) == decision
        untils.append(decision.until)
    assert len(set(untils)) == len(untils)


@pytest.mark.parametrize("key", [0, 1, 2, 12345, -3, 2**70])
def test_overdue_during_quiet_hours_lands_after_quiet_end(key: int) -> None:
    now = local(PARIS, 2026, 1, 14, 23)
    decision = decide(now - timedelta(hours=10), now, NudgeHistory(), PARIS, POLICY, spread_key=key)
    morning = utc(2026, 1, 15, 8)  # 09:00 Paris
    assert isinstance(decision, Defer)
    assert decision.reason == "overdue"
    assert morning <= decision.until < morning + POLICY.spread


def test_overdue_nudges_are_spread_after_quiet_hours_too() -> None:
    # A backlog met at night must not all land on the very instant quiet hours end.
    now = local(PARIS, 2026, 1, 14, 23)
    untils = {
        decide(now - D, now, NudgeHistory(), PARIS, POLICY, spread_key=key) for key in range(50)
    }
    assert len(untils) == 50


def test_overdue_with_no_spread() -> None:
    policy = NudgePolicy(spread=timedelta(0))
    decision = decide(NOON - D, NOON, NudgeHistory(), PARIS, policy, spread_key=99)
    assert decision == Defer(NOON, "overdue")


# --- quiet hours and the cap together ----------------------------------------------------------


def test_decide_in_quiet_hours_defers_to_their_end() -> None:
    now = local(PARIS, 2026, 1, 14, 23)
    expected = Defer(utc(2026, 1, 15, 8), "quiet_hours")
    assert decide(now - timedelta(hours=1), now, NudgeHistory(), PARIS, POLICY) == expected


def test_quiet_hours_end_still_respects_the_cap() -> None:
    # quiet until 09:00 Paris (08:00 UTC); the cap frees at 10:00 Paris (09:00 UTC)
    now = local(PARIS, 2026, 1, 15, 7)
    oldest = utc(2026, 1, 8, 9)
    history = sends(oldest, oldest + D, oldest + 2 * D)
    expected = Defer(utc(2026, 1, 15, 9), "quiet_hours")
    assert decide(now - timedelta(hours=1), now, history, PARIS, POLICY) == expected


def test_cap_freeing_during_quiet_hours_moves_to_quiet_end() -> None:
    oldest = utc(2026, 1, 5, 22, 30)  # 23:30 Paris
    history = sends(oldest, utc(2026, 1, 6, 12), utc(2026, 1, 7, 12))
    # the cap frees on Jan 12 at 23:30 Paris, in quiet hours: 09:00 Paris on Jan 13
    assert next_allowed(utc(2026, 1, 8, 12), history, PARIS, POLICY) == utc(2026, 1, 13, 8)
    now = utc(2026, 1, 8, 12)
    assert decide(now, now, history, PARIS, POLICY) == Defer(utc(2026, 1, 13, 8), "weekly_cap")


def test_quiet_end_and_cap_moves_chain_until_stable() -> None:
    # Cap 1. The first send frees the cap in quiet hours; quiet ends at 09:00 Paris, when a
    # later send is in the window; it frees the cap in quiet hours again a week later.
    policy = NudgePolicy(weekly_cap=1)
    history = sends(utc(2026, 1, 5, 22, 30), utc(2026, 1, 13, 7, 45))
    assert next_allowed(utc(2026, 1, 6, 12), history, PARIS, policy) == utc(2026, 1, 20, 8)


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: is_quiet(datetime(2026, 1, 1, 12), PARIS, POLICY),
        lambda: quiet_ends(datetime(2026, 1, 1, 12), PARIS, POLICY),
        lambda: next_allowed(datetime(2026, 1, 1, 12), NudgeHistory(), PARIS, POLICY),
        lambda: decide(NOON, datetime(2026, 1, 1, 12), NudgeHistory(), PARIS, POLICY),
        lambda: NudgeHistory(sent_at=(datetime(2026, 1, 1, 12),)),
        lambda: NudgeHistory(ignored_in_a_row=-1),
        lambda: NudgePolicy(weekly_cap=0),
        lambda: NudgePolicy(quiet_start=time(21, tzinfo=UTC)),
        lambda: NudgePolicy(grace=-D),
        lambda: delay_for(-D, NudgeHistory(), POLICY),
    ],
)
def test_bad_inputs_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


# --- properties --------------------------------------------------------------------------------

MOMENTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31, 23, 59), timezones=st.just(UTC)
)
WALL = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
POLICIES = st.builds(
    NudgePolicy,
    quiet_start=WALL,
    quiet_end=WALL,
    weekly_cap=st.integers(1, 4),
    dormant_after=st.integers(1, 4),
)


@st.composite
def histories(draw: st.DrawFn, around: datetime) -> NudgeHistory:
    offsets = draw(st.lists(st.integers(-10 * 24 * 60, 3 * 24 * 60), max_size=8))
    return NudgeHistory(
        sent_at=tuple(around + timedelta(minutes=m) for m in offsets),
        ignored_in_a_row=draw(st.integers(0, 5)),
        stopped=draw(st.booleans()),
        blocked=draw(st.booleans()),
    )


@settings(deadline=None)
@given(earliest=MOMENTS, tz=st.sampled_from(ZONES), policy=POLICIES, data=st.data())
def test_next_allowed_is_allowed(
    earliest: datetime, tz: ZoneInfo, policy: NudgePolicy, data: st.DataObject
) -> None:
    history = data.draw(histories(earliest))
    result = next_allowed(earliest, history, tz, policy)
    assert result >= earliest
    assert not is_quiet(result, tz, policy)
    assert in_window(result, history) < policy.weekly_cap


@settings(deadline=None)
@given(moment=MOMENTS, tz=st.sampled_from(ZONES), policy=POLICIES)
def test_quiet_ends_is_the_first_instant_outside_quiet_hours(
    moment: datetime, tz: ZoneInfo, policy: NudgePolicy
) -> None:
    end = quiet_ends(moment, tz, policy)
    assert end >= moment
    assert not is_quiet(end, tz, policy)
    # Every boundary is on a whole minute, so a minute-by-minute walk sees every
    # instant outside quiet hours; none may come before `end`.
    step = moment
    while step < end:
        assert is_quiet(step, tz, policy)
        step += timedelta(minutes=1)


@settings(deadline=None)
@given(
    now=MOMENTS,
    late_by=st.integers(-2 * 24 * 60, 3 * 24 * 60),
    tz=st.sampled_from(ZONES),
    policy=POLICIES,
    key=st.integers(0, 10**6),
    data=st.data(),
)
def test_decide_never_sends_in_quiet_hours_or_over_the_cap(
    now: datetime,
    late_by: int,
    tz: ZoneInfo,
    policy: NudgePolicy,
    key: int,
    data: st.DataObject,
) -> None:
    history = data.draw(histories(now))
    decision = decide(now - timedelta(minutes=late_by), now, history, tz, policy, spread_key=key)
    if isinstance(decision, Send):
        assert not is_quiet(now, tz, policy)
        assert in_window(now, history) < policy.weekly_cap
        assert not (history.stopped or history.blocked)
    elif isinstance(decision, Defer):
        assert decision.until >= now
        if decision.reason != "not_due":
            assert not is_quiet(decision.until, tz, policy)
            assert in_window(decision.until, history) < policy.weekly_cap

"""Alerts to advocates about their friends, and the friends' dormancy watch. Pure.

A friend's turn queues an alert (`Notify`) for their advocate: joined, finished a stage,
gone quiet. Alerts travel through the same durable outbox as nudges: the advocate's row
`alerts` falls due `alert_delay` later, so that alerts close together make one message.
When an advocate already had their share of alert messages in the last 24 hours, or
many alerts arrive at once, they are held and told in one daily digest instead.
Only what the friend lets their advocate see is ever told (checked again at delivery).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.events import ButtonView, NudgeDue, ScheduleNudge, Send
from bot.core.localtime import timezone_of
from bot.core.model import STAGES
from bot.core.turn import Turn
from bot.features.advocates.effects import AckAlerts, Notify
from bot.features.advocates.records import (
    ALERTS_KEY,
    DIGEST_NAMES,
    DORMANT_KEY,
    AdvocatePolicy,
    Alert,
    AlertBatch,
)
from bot.features.advocates.state import ADVOCACY, AdvocacyState
from bot.features.nudges.policy import NudgePolicy, is_quiet, quiet_ends

DAY = timedelta(days=1)
AT_ONCE = 3  # more alerts than this in one go: a digest, not a list


def _put(turn: Turn, mine: AdvocacyState) -> None:
    turn.state = ADVOCACY.put(turn.state, mine)


def notify(turn: Turn, policy: AdvocatePolicy, kind: str, stage: str | None = None) -> None:
    """Queue an alert about this person for their advocate, if they share their progress."""
    s = ADVOCACY.of(turn.state)
    if s.referrer is None or not s.shares:
        return
    due = turn.now + policy.alert_delay
    turn.effects.append(Notify(s.referrer, kind, stage, due))
    turn.record("alert_queued", kind=kind)


def watch(turn: Turn, policy: AdvocatePolicy) -> None:
    """After the person's own action: make sure someone checks later whether they went
    quiet. One outbox row per quiet spell, not one write per message."""
    s = ADVOCACY.of(turn.state)
    if s.referrer is None or not s.shares or s.watch_at is not None:
        return
    due = turn.now + policy.dormant_after  # they act now: quiet from now on
    turn.effects.append(ScheduleNudge(DORMANT_KEY, due))
    _put(turn, replace(s, watch_at=due))


def on_dormant_due(turn: Turn, policy: AdvocatePolicy) -> None:
    """The dormancy check: still quiet since long enough? Then tell the advocate, once."""
    s, active_at = ADVOCACY.of(turn.state), turn.state.active_at
    after = policy.dormant_after
    if s.referrer is None or not s.shares or active_at is None:
        _put(turn, replace(s, watch_at=None))
        return
    if turn.now - active_at < after:  # they came back meanwhile: check again later
        due = active_at + after
        turn.effects.append(ScheduleNudge(DORMANT_KEY, due))
        _put(turn, replace(s, watch_at=due))
        return
    _put(turn, replace(s, watch_at=None))  # re-armed by their next own action
    notify(turn, policy, "dormant")


def next_digest(
    now: datetime, tz: ZoneInfo, policy: AdvocatePolicy, quiet: NudgePolicy
) -> datetime:
    """The next daily digest time in the advocate's own time zone, outside quiet hours."""
    local = now.astimezone(tz)
    at = policy.digest_time
    day = local.date()
    for _ in range(3):
        candidate = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
        if candidate > now:
            return quiet_ends(candidate, tz, quiet)
        day += DAY
    return quiet_ends(now + DAY, tz, quiet)


def on_alerts_due(turn: Turn, policy: AdvocatePolicy, quiet: NudgePolicy, event: NudgeDue) -> None:
    """The advocate's alerts fell due: tell them now, hold them for the digest, or drop
    them (alerts off, blocked, or the friend stopped sharing)."""
    s = ADVOCACY.of(turn.state)
    batch = event.known if isinstance(event.known, AlertBatch) else AlertBatch(())
    alerts = [a for a in batch.alerts if a.shares]
    everything = tuple(a.id for a in batch.alerts)
    if not s.alerts or turn.state.blocked or not alerts:
        if everything:
            turn.effects.append(AckAlerts(everything))
        turn.record("alerts_dropped", count=len(everything), off=not s.alerts)
        _put(turn, replace(s, digest_at=None))
        if batch.more:
            turn.effects.append(ScheduleNudge(ALERTS_KEY, turn.now))
        return
    tz, now = timezone_of(turn.state), turn.now
    if is_quiet(now, tz, quiet):
        turn.effects.append(ScheduleNudge(ALERTS_KEY, quiet_ends(now, tz, quiet)))
        return
    if s.digest_at is not None and now < s.digest_at:  # held for the digest: not yet
        turn.effects.append(ScheduleNudge(ALERTS_KEY, s.digest_at))
        return
    recent = tuple(t for t in s.alerts_sent if now - t < DAY)
    if s.digest_at is None and (len(alerts) > AT_ONCE or len(recent) >= policy.alerts_per_day):
        digest = next_digest(now, tz, policy, quiet)
        _put(turn, replace(s, digest_at=digest, alerts_sent=recent))
        turn.effects.append(ScheduleNudge(ALERTS_KEY, digest))
        turn.record("alerts_held", count=len(alerts))
        return
    if len(alerts) == 1 and s.digest_at is None:
        _tell_one(turn, policy, alerts[0])
    else:
        _tell_digest(turn, policy, alerts, batch.more)
    turn.effects.append(AckAlerts(everything))
    _put(turn, replace(ADVOCACY.of(turn.state), digest_at=None, alerts_sent=(*recent, now)))
    turn.record("alerts_sent", count=len(alerts))
    if batch.more:
        turn.effects.append(ScheduleNudge(ALERTS_KEY, now + policy.alert_delay))


def buttons(turn: Turn) -> tuple[ButtonView, ...]:
    """Under an alert: see the friends, or stop alerts (one tap, always)."""
    return (
        turn.button("alerts_friends_button", "friends", "1"),
        turn.button("alerts_stop_button", "alerts", "off"),
    )


def _friend_view(turn: Turn, policy: AdvocatePolicy, alert: Alert) -> dict[str, Any]:
    stage = alert.stage or ""
    name = turn.message(f"stage_{stage}") if stage in STAGES else stage
    days = max(1, (turn.now - alert.at).days + policy.dormant_after.days)
    return {"name": alert.friend_name, "stage": stage, "stage_name": name, "days": days}


def _tell_one(turn: Turn, policy: AdvocatePolicy, alert: Alert) -> None:
    friend = _friend_view(turn, policy, alert)
    key = {"joined": "alert_joined", "stage": "alert_stage"}.get(alert.kind, "alert_dormant")
    turn.effects.append(Send(turn.message(key, friend=friend), buttons(turn)))


def _tell_digest(turn: Turn, policy: AdvocatePolicy, alerts: list[Alert], more: int) -> None:
    groups: dict[str, list[dict[str, Any]]] = {"joined": [], "stage": [], "dormant": []}
    for alert in alerts:
        groups.setdefault(alert.kind, []).append(_friend_view(turn, policy, alert))
    shown = {kind: items[:DIGEST_NAMES] for kind, items in groups.items()}
    others = sum(len(items) - len(shown[kind]) for kind, items in groups.items()) + more
    text = turn.message(
        "alert_digest",
        joined=shown["joined"], progressed=shown["stage"], dormant=shown["dormant"],
        count=len(alerts) + more, others=others,
    )  # fmt: skip
    turn.effects.append(Send(text, buttons(turn)))

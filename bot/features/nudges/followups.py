"""The engine's side of follow-up nudges. Pure, like the engine: it only reads the turn's
state and `now`, and answers with new state and effects (schedule, cancel, send)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core import callback
from bot.core.events import ButtonView, CancelNudge, NudgeDue, ScheduleNudge, Send
from bot.core.state import UserState, evolve
from bot.features.nudges.policy import (
    WEEK,
    Defer,
    Drop,
    NudgeHistory,
    decide,
    default_timezone,
    next_allowed,
    schedule,
)

if TYPE_CHECKING:
    from bot.core.engine import Turn
    from bot.core.model import Node

KEY = "followup"  # one pending follow-up per person: moving on replaces it
SNOOZES = {"tomorrow": timedelta(days=1), "later": timedelta(days=7)}


def timezone_of(state: UserState) -> ZoneInfo:
    """The person's timezone: chosen with /timezone, else their language's default."""
    if state.timezone:
        try:
            return ZoneInfo(state.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return default_timezone(state.lang)


def history(state: UserState, now: datetime) -> NudgeHistory:
    return NudgeHistory(
        sent_at=tuple(t for t in state.nudges_sent if now - t < WEEK),
        ignored_in_a_row=state.ignored_in_a_row,
        stopped=not state.reminders,
        blocked=state.blocked,
    )


def _set(turn: Turn, due: datetime | None, step: int) -> None:
    """Schedule the pending follow-up at `due` (None: cancel it)."""
    s = turn.state
    if due is None:
        if s.next_nudge_at is None and s.nudge_step == step:
            return  # nothing pending, nothing changes: the common case, kept cheap
        if s.next_nudge_at is not None:
            turn.effects.append(CancelNudge(KEY))
    else:
        turn.effects.append(ScheduleNudge(KEY, due))
    turn.state = evolve(s, next_nudge_at=due, nudge_step=step)


def plan(turn: Turn, node: Node | None, step: int = 0) -> None:
    """After a node is shown: its follow-up number `step`, if any, else none pending."""
    followup = node.nudges[step] if node is not None and step < len(node.nudges) else None
    if followup is None or followup.after is None:
        _set(turn, None, step)  # the step stays: a snooze repeats the last follow-up sent
        return
    s, policy = turn.state, turn.dialogs.nudge_policy
    due = schedule(turn.now, followup.after, history(s, turn.now), timezone_of(s), policy)
    _set(turn, due, step)


def buttons(turn: Turn) -> tuple[ButtonView, ...]:
    """Under every nudge: go on, tomorrow, not now (a week), no more reminders."""
    return tuple(
        ButtonView(turn.label(f"nudge_{action}"), callback.encode_system("nudge", action))
        for action in ("continue", "tomorrow", "later", "stop")
    )


def on_due(turn: Turn, event: NudgeDue) -> None:
    """The pending follow-up is due: send it, move it, or drop it, as the policy says."""
    s = turn.state
    node = turn.current()
    if s.next_nudge_at is None or node is None or s.nudge_step >= len(node.nudges):
        turn.record("nudge_stale", key=event.key)  # moved on meanwhile: nothing to remind
        return
    decision = decide(event.due, turn.now, history(s, turn.now), timezone_of(s),
                      turn.dialogs.nudge_policy, spread_key=s.user_id)  # fmt: skip
    if isinstance(decision, Drop):
        turn.record("nudge_dropped", reason=decision.reason)
        _set(turn, None, 0)
        return
    if isinstance(decision, Defer):
        turn.record("nudge_deferred", reason=decision.reason)
        _set(turn, decision.until, s.nudge_step)
        return
    followup = node.nudges[s.nudge_step]
    text = turn.render(followup.say[s.lang], f"{node.key}:nudge{s.nudge_step}")
    if text is None:
        _set(turn, None, 0)
        return
    turn.effects.append(Send(text, buttons(turn)))
    turn.record("nudge_sent", node=node.key, step=s.nudge_step)
    sent = (*history(s, turn.now).sent_at, turn.now)
    turn.state = evolve(s, nudges_sent=sent, ignored_in_a_row=s.ignored_in_a_row + 1)
    plan(turn, node, s.nudge_step + 1)


def on_press(turn: Turn, action: str) -> bool:
    """A nudge's own button; False when it no longer applies (the caller says so)."""
    s = turn.state
    if action == "stop":
        stop(turn)
        turn.say("stop_done")
        return True
    if action == "continue":
        turn.show()
        return True
    node = turn.current()
    if action in SNOOZES and node is not None and node.nudges:
        earliest = turn.now + SNOOZES[action]
        due = next_allowed(
            earliest, history(s, turn.now), timezone_of(s), turn.dialogs.nudge_policy
        )
        # the buttons answer the follow-up just sent (step - 1): that one comes back
        _set(turn, due, min(max(0, s.nudge_step - 1), len(node.nudges) - 1))
        turn.say("nudge_snoozed", when=when(turn, due))
        return True
    return False


def stop(turn: Turn) -> None:
    """/stop: no reminder ever again, until /reminders."""
    turn.state = evolve(turn.state, reminders=False)
    _set(turn, None, 0)


def resume(turn: Turn) -> None:
    """/reminders: reminders back on, planned for where the person is."""
    turn.state = evolve(turn.state, reminders=True, ignored_in_a_row=0)
    plan(turn, turn.current())


def when(turn: Turn, moment: datetime) -> str:
    """A moment in the person's own timezone, as people write it."""
    local = moment.astimezone(timezone_of(turn.state))
    if turn.state.lang == "fr":
        return local.strftime("%d/%m à %H:%M")
    return local.strftime("%d %b at %H:%M")

"""Follow-up nudges on the engine's side. Pure, like the engine: it only reads the turn's
state and `now`, and answers with new state and effects (schedule, cancel, send)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.core.events import ButtonView, CancelNudge, NudgeDue, ScheduleNudge, Send
from bot.core.localtime import timezone_of
from bot.core.model import Node
from bot.core.state import UserState
from bot.core.turn import Turn
from bot.features.nudges.policy import (
    WEEK,
    Defer,
    Drop,
    NudgeHistory,
    NudgePolicy,
    decide,
    next_allowed,
    schedule,
)
from bot.features.nudges.state import NUDGES, NudgeState

KEY = "followup"  # one pending follow-up per person: moving on replaces it
SNOOZES = {"tomorrow": timedelta(days=1), "later": timedelta(days=7)}


def history(turn: Turn, mine: NudgeState) -> NudgeHistory:
    return NudgeHistory(
        sent_at=tuple(t for t in mine.sent if turn.now - t < WEEK),
        ignored_in_a_row=mine.ignored_in_a_row,
        stopped=not mine.reminders,
        blocked=turn.state.blocked,
    )


def _put(turn: Turn, mine: NudgeState) -> None:
    turn.state = NUDGES.put(turn.state, mine)


def _set(turn: Turn, due: datetime | None, step: int) -> None:
    """Schedule the pending follow-up at `due` (None: cancel it)."""
    mine = NUDGES.of(turn.state)
    if due is None:
        if mine.next_at is None and mine.step == step:
            return  # nothing pending, nothing changes: the common case, kept cheap
        if mine.next_at is not None:
            turn.effects.append(CancelNudge(KEY))
    else:
        turn.effects.append(ScheduleNudge(KEY, due))
    _put(turn, replace(mine, next_at=due, step=step))


def plan(turn: Turn, policy: NudgePolicy, node: Node | None, step: int = 0) -> None:
    """After a node is shown: its follow-up number `step`, if any, else none pending."""
    followup = node.nudges[step] if node is not None and step < len(node.nudges) else None
    if followup is None or followup.after is None:
        _set(turn, None, step)  # the step stays: a snooze repeats the last follow-up sent
        return
    mine = NUDGES.of(turn.state)
    due = schedule(turn.now, followup.after, history(turn, mine), timezone_of(turn.state), policy)
    _set(turn, due, step)


def buttons(turn: Turn) -> tuple[ButtonView, ...]:
    """Under every nudge: go on, tomorrow, not now (a week), no more reminders."""
    return tuple(
        turn.button(f"nudge_{action}", "nudge", action)
        for action in ("continue", "tomorrow", "later", "stop")
    )


def on_due(turn: Turn, policy: NudgePolicy, event: NudgeDue) -> None:
    """The pending follow-up is due: send it, move it, or drop it, as the policy says."""
    mine = NUDGES.of(turn.state)
    node = turn.current()
    if mine.next_at is None or node is None or mine.step >= len(node.nudges):
        # moved on meanwhile, or the node was deleted or lost that reminder in a dialog
        # change: nothing to remind, and nothing left pending
        turn.record("nudge_stale", key=event.key)
        if mine.next_at is not None:
            _put(turn, replace(mine, next_at=None))
        return
    tz = timezone_of(turn.state)
    decision = decide(event.due, turn.now, history(turn, mine), tz, policy,
                      spread_key=turn.state.user_id)  # fmt: skip
    if isinstance(decision, Drop):
        turn.record("nudge_dropped", reason=decision.reason)
        _set(turn, None, 0)
        return
    if isinstance(decision, Defer):
        turn.record("nudge_deferred", reason=decision.reason)
        _set(turn, decision.until, mine.step)
        return
    followup = node.nudges[mine.step]
    text = turn.render(followup.say[turn.state.lang], f"{node.key}:nudge{mine.step}")
    if text is None:
        _set(turn, None, 0)
        return
    turn.effects.append(Send(text, buttons(turn)))
    turn.record("nudge_sent", node=node.key, step=mine.step)
    sent = (*history(turn, mine).sent_at, turn.now)
    _put(turn, replace(mine, sent=sent, ignored_in_a_row=mine.ignored_in_a_row + 1))
    plan(turn, policy, node, mine.step + 1)


def on_press(turn: Turn, policy: NudgePolicy, action: str) -> bool:
    """A nudge's own button; False when it no longer applies (the caller says so)."""
    if action == "stop":
        stop(turn)
        turn.say("stop_done")
        return True
    if action == "continue":
        turn.show()
        return True
    node = turn.current()
    if action in SNOOZES and node is not None and node.nudges:
        mine = NUDGES.of(turn.state)
        earliest = turn.now + SNOOZES[action]
        due = next_allowed(earliest, history(turn, mine), timezone_of(turn.state), policy)
        # the buttons answer the follow-up just sent (step - 1): that one comes back
        _set(turn, due, min(max(0, mine.step - 1), len(node.nudges) - 1))
        turn.say("nudge_snoozed", when=turn.when(due))
        return True
    return False


# The dialog variable that tells the dialogs reminders are off, so that they never
# promise one ("in a week, I'll ask you how it went") that will not come.
OFF = "reminders_off"


def stop(turn: Turn) -> None:
    """/stop: no reminder ever again, until /reminders."""
    _put(turn, replace(NUDGES.of(turn.state), reminders=False))
    turn.set_vars({OFF: True})
    _set(turn, None, 0)


def resume(turn: Turn, policy: NudgePolicy) -> None:
    """/reminders: reminders back on, planned for where the person is."""
    _put(turn, replace(NUDGES.of(turn.state), reminders=True, ignored_in_a_row=0))
    if turn.state.vars.get(OFF):
        turn.set_vars({OFF: False})
    plan(turn, policy, turn.current())


def zone_changed(turn: Turn, policy: NudgePolicy, before: UserState) -> None:
    """After /timezone: the pending reminder moves out of the new zone's quiet hours now,
    so that /progress never names a time it will not keep."""
    mine = NUDGES.of(turn.state)
    if turn.state.timezone == before.timezone or mine.next_at is None:
        return
    tz = timezone_of(turn.state)
    due = next_allowed(max(mine.next_at, turn.now), history(turn, mine), tz, policy)
    if due != mine.next_at:
        _set(turn, due, mine.step)


def back(turn: Turn) -> None:
    """The person did something: they are not ignoring the nudges any more."""
    mine = NUDGES.of(turn.state)
    if mine.ignored_in_a_row:
        _put(turn, replace(mine, ignored_in_a_row=0))

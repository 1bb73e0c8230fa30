"""Follow-up nudges as a feature: /stop, /reminders, the nudge buttons, the due row."""

from __future__ import annotations

from bot.core.events import Command, NudgeDue
from bot.core.feature import Feature
from bot.core.model import Node
from bot.core.state import UserState
from bot.core.turn import Turn
from bot.features.nudges import followups
from bot.features.nudges.policy import NudgePolicy
from bot.features.nudges.state import NUDGES

MESSAGES: dict[str, frozenset[str]] = {
    "stop_done": frozenset(),
    "reminders_on": frozenset(),
    "nudge_continue": frozenset(),
    "nudge_tomorrow": frozenset(),
    "nudge_later": frozenset(),
    "nudge_stop": frozenset(),
    "nudge_snoozed": frozenset({"when"}),
    "cmd_stop": frozenset(),
    "cmd_reminders": frozenset(),
}


def feature(policy: NudgePolicy | None = None) -> Feature:
    """The nudges, as polite as `policy` says (the product's defaults if None)."""
    rules = policy or NudgePolicy()

    def stop(turn: Turn, command: Command) -> None:
        followups.stop(turn)
        turn.say("stop_done")

    def reminders(turn: Turn, command: Command) -> None:
        followups.resume(turn, rules)
        turn.say("reminders_on")

    def due(turn: Turn, event: NudgeDue) -> None:
        followups.on_due(turn, rules, event)

    def entered(turn: Turn, node: Node) -> None:
        followups.plan(turn, rules, node)

    def press(turn: Turn, action: str, known: object | None) -> bool:
        return followups.on_press(turn, rules, action)

    def after(turn: Turn, before: UserState) -> None:
        followups.zone_changed(turn, rules, before)

    return Feature(
        name="nudges",
        commands={"stop": stop, "reminders": reminders},
        presses={"nudge": press},
        due={followups.KEY: due},
        on_action=followups.back,
        on_enter=entered,
        after_turn=after,
        messages=MESSAGES,
        lengths={("when",): 24},
        menu=("stop", "reminders"),
        variables={followups.OFF: 5},  # true after /stop, false again after /reminders
        part=NUDGES,
    )

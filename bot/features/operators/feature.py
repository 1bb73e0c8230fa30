"""The operators' commands in the chat: /reload here, /broadcast in `broadcast.py`.

/reload: an operator asks the running bot to check the dialog files and serve them.
Only the Telegram ids listed in `telegram.admins` may; for everyone else the command does
not exist (the bot answers as it does for any unknown command, and tells nobody that
operators exist). Pure: the command is an effect, the runtime does the reload (it reads
the files, checks them and swaps the set in), then `reload_replies` says how it went.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.core.events import Command, FeatureEffect, Send
from bot.core.feature import CommandHandler, Feature
from bot.core.turn import Turn
from bot.features.operators import broadcast
from bot.features.operators.lookups import lookup_for
from bot.features.operators.records import BROADCAST
from bot.features.operators.reports import bounded

NAME = "operators"
# what a message may hold of the report: Telegram's limit is 4,096 characters
REPORT_LIMIT = 2000
MESSAGES: dict[str, frozenset[str]] = {
    "reload_done": frozenset({"before", "version", "moves", "warnings"}),
    "reload_unchanged": frozenset({"version"}),
    "reload_refused": frozenset({"version", "problems"}),
    "reload_off": frozenset(),
}
LENGTHS: dict[tuple[str, ...], int] = {
    ("before",): 8, ("version",): 8, ("warnings",): 4,
    ("moves",): REPORT_LIMIT, ("problems",): REPORT_LIMIT,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReloadDialogs(FeatureEffect):
    """Check the dialog files again and serve them if they have no error."""


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """How a reload went: `done` (a new set is served), `unchanged`, `refused` (errors:
    the set served before stays), or `off` (this way of running cannot reload)."""

    result: Literal["done", "unchanged", "refused", "off"]
    version: str = ""  # the version served now
    before: str = ""  # the version served before a `done`
    moves: tuple[str, ...] = ()  # who moves where (the checker's report)
    problems: tuple[str, ...] = ()  # the errors of a refused set
    warnings: int = 0


def reload_(admins: frozenset[int]) -> CommandHandler:
    def handle(turn: Turn, command: Command) -> None:
        if turn.state.user_id not in admins:
            turn.say("unknown_command", command=command.name[:32])
            return
        turn.record("reload_asked")
        turn.effects.append(ReloadDialogs())

    return handle


def reload_replies(turn: Turn, outcome: ReloadOutcome) -> list[Send]:
    """The operator's answer: the new version and who moves, or why nothing changed."""
    if outcome.result == "off":
        return [Send(turn.message("reload_off"))]
    if outcome.result == "unchanged":
        return [Send(turn.message("reload_unchanged", version=outcome.version))]
    if outcome.result == "refused":
        problems = bounded(outcome.problems, REPORT_LIMIT)
        return [Send(turn.message("reload_refused", version=outcome.version, problems=problems))]
    return [
        Send(
            turn.message(
                "reload_done",
                before=outcome.before,
                version=outcome.version,
                moves=bounded(outcome.moves, REPORT_LIMIT),
                warnings=outcome.warnings,
            )
        )
    ]


# The tables /broadcast keeps about people, and the column naming them (the jobs
# themselves, `broadcasts`, name nobody).
TABLES = {"broadcast_drafts": "admin_id", "broadcast_recipients": "user_id"}


def feature(admins: Sequence[int] = ()) -> Feature:
    allowed = frozenset(admins)
    return Feature(
        name=NAME,
        commands={"reload": reload_(allowed), BROADCAST: broadcast.command(allowed)},
        presses={BROADCAST: broadcast.press(allowed)},
        on_text=broadcast.on_text(allowed),
        lookup=lookup_for(allowed),
        messages={**MESSAGES, **broadcast.MESSAGES},
        lengths={**LENGTHS, **broadcast.LENGTHS},
        admin_menu=(BROADCAST, "reload"),
        tables=TABLES,
    )

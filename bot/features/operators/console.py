"""/console: an operator asks for a link to the console in the browser.

Only the Telegram ids in `telegram.admins` may; for everyone else the command does not
exist (the ordinary "unknown command" answer). Pure: the command is an effect; the app
makes the one-time link (signed, bound to that operator, expiring in minutes) and
`console_replies` says it, or says the console is off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.events import Command, FeatureEffect, Send
from bot.core.feature import CommandHandler, Feature
from bot.core.turn import Turn

NAME = "console"
COMMAND = "console"
URL_LIMIT = 300
MESSAGES: dict[str, frozenset[str]] = {
    "console_link": frozenset({"url", "minutes"}),
    "console_off": frozenset(),
    "cmd_console": frozenset(),
}
LENGTHS: dict[tuple[str, ...], int] = {("url",): URL_LIMIT, ("minutes",): 2}
# the links given, by operator: erased with them (/forget)
TABLES = {"console_links": "admin_id"}


@dataclass(frozen=True, slots=True)
class OpenConsole(FeatureEffect):
    """Give the operator a one-time link to the console."""


@dataclass(frozen=True, slots=True)
class ConsoleLink:
    """What the app made of it: the link and how long it works, or None (console off)."""

    url: str | None
    minutes: int = 0


def console_(admins: frozenset[int]) -> CommandHandler:
    def handle(turn: Turn, command: Command) -> None:
        if turn.state.user_id not in admins:
            turn.say("unknown_command", command=command.name[:32])
            return
        turn.record("console_asked")
        turn.effects.append(OpenConsole())

    return handle


def console_replies(turn: Turn, link: ConsoleLink) -> list[Send]:
    if link.url is None:
        return [Send(turn.message("console_off"))]
    return [Send(turn.message("console_link", url=link.url, minutes=link.minutes))]


def feature(admins: Sequence[int] = ()) -> Feature:
    return Feature(
        name=NAME,
        commands={COMMAND: console_(frozenset(admins))},
        messages=MESSAGES,
        lengths=LENGTHS,
        admin_menu=(COMMAND,),
        tables=TABLES,
    )

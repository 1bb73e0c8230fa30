"""A feature: one record that tells the core what it handles.

The core never imports a feature. The composition root hands the dialog set an ordered
tuple of `Feature`s; `step` routes each event through their tables (commands, the bot's
own buttons, due outbox rows) and calls their hooks in that order, which is also their
priority. Everything a feature needs from the dialogs (its messages, the variables it
sets, how long the values its messages receive can be) is declared here too, so the
checker knows it at load time.

Learnt from python-telegram-bot's handler groups (an ordered list, first match wins) and
aiogram_dialog's widgets (a handler says whether it handled the event), with one change:
what a feature handles is keyed data (a command name, an action, an outbox key), so
routing is a dictionary look-up and two features claiming the same key is an error at
start-up, not a silent shadowing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.events import Command, Event, NudgeDue, Start, Text
from bot.core.model import Node
from bot.core.state import Part, UserState
from bot.core.turn import Turn
from bot.errors import VieError

CommandHandler = Callable[[Turn, Command], None]
# A press of the bot's own button `!action:value`, with what its lookup found: False
# when it no longer applies.
PressHandler = Callable[[Turn, str, object | None], bool]
DueHandler = Callable[[Turn, NudgeDue], None]
# `/start`: True when the feature handled it (the core's own welcome is then skipped).
StartHook = Callable[[Turn, Start], bool]
# Typed text: True when the feature took it. `other_meaning` says whether a dialog rule
# also matches it, so that a feature's question lets a clear answer elsewhere win.
TextHook = Callable[[Turn, Node | None, Text, bool], bool]
TurnHook = Callable[[Turn], None]
NodeHook = Callable[[Turn, Node], None]
StageHook = Callable[[Turn, str], None]
AfterHook = Callable[[Turn, UserState], None]  # with the state before the turn
# What an event needs from outside, looked up before the step (the shell's half): the
# first argument is the runtime's services (the store's reads, the link checker…).
Lookup = Callable[[Any, UserState | None, Event], Awaitable[object | None]]


# The core's own button action ("did you mean…?"): no feature may claim it.
RESERVED = (("button action", "meant"),)


class FeatureError(VieError):
    """Two features claim the same command, button action or outbox key."""


@dataclass(frozen=True, slots=True)
class Feature:
    """What one feature handles and needs. Every field is optional."""

    name: str
    commands: Mapping[str, CommandHandler] = field(default_factory=dict)
    presses: Mapping[str, PressHandler] = field(default_factory=dict)
    due: Mapping[str, DueHandler] = field(default_factory=dict)
    on_start: StartHook | None = None
    on_text: TextHook | None = None
    on_action: TurnHook | None = None  # the person did something (before it is handled)
    on_enter: NodeHook | None = None  # a node was shown and the person now stands there
    on_stage: StageHook | None = None  # a stage was just completed
    after_turn: AfterHook | None = None  # after every event of the person's own
    lookup: Lookup | None = None
    # dialogs/messages.yaml keys it uses -> the extra names each may use
    messages: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # the longest value of each name its messages receive (`("invite", "code")` -> 11)
    lengths: Mapping[tuple[str, ...], int] = field(default_factory=dict)
    # dialog variables it sets (`vars.invited`) -> their longest value
    variables: Mapping[str, int] = field(default_factory=dict)
    # commands shown in Telegram's menu, in order (each has a `cmd_<name>` message)
    menu: tuple[str, ...] = ()
    # commands shown only in the menu of the operators (`telegram.admins`), after the rest
    admin_menu: tuple[str, ...] = ()
    # its record in every UserState (`Part`), and the tables it keeps, each with the
    # column naming the person (what /mydata exports and /forget erases)
    part: Part[Any] | None = None
    tables: Mapping[str, str] = field(default_factory=dict)


def check_features(features: Sequence[Feature]) -> None:
    """Refuse two features that claim the same name, command, action or outbox key."""
    seen: dict[tuple[str, str], str] = dict.fromkeys(RESERVED, "the core")
    for feature in features:
        keys = [("feature name", feature.name)]
        keys += [("command", c) for c in feature.commands]
        keys += [("button action", a) for a in feature.presses]
        keys += [("outbox key", k) for k in feature.due]
        for kind, key in keys:
            owner = seen.get((kind, key))
            if owner is not None:
                raise FeatureError(
                    f"{kind} '{key}' is claimed by both '{owner}' and '{feature.name}': "
                    "give one of them another name"
                )
            seen[(kind, key)] = feature.name
        for name in (*feature.menu, *feature.admin_menu):
            if name not in feature.commands and name != "start":
                raise FeatureError(
                    f"feature '{feature.name}' puts /{name} in the menu but handles no such "
                    "command: add it to its commands, or take it out of the menu"
                )

"""The dialogue engine: `step(dialogs, state, event, now) -> (state, effects)`.

Pure: no I/O, no clock, no globals. It reads the loaded dialogs and the person's state,
and returns the new state with the effects for an adapter to carry out. It knows dialogs
(nodes, buttons, text rules) and nothing else: commands, the bot's own buttons and due
outbox rows go to the features registered in the dialog set, in their order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from bot.core import callback
from bot.core.callback import encode_system
from bot.core.dialogset import DialogSet, Routes
from bot.core.events import (
    ButtonView,
    Command,
    Effect,
    Event,
    KeepUnknown,
    NudgeDue,
    Press,
    Send,
    Start,
    Text,
    Unsupported,
)
from bot.core.model import BUILTIN_INTENTS, Button, Node, Target, TextRule
from bot.core.render import TELEGRAM_TEXT_LIMIT
from bot.core.state import UserState, evolve
from bot.core.turn import Turn
from bot.core.understand import action_for, understand

MEANT = "meant"  # the core's own button action: `!meant:<intent>` ("did you mean…?")
UNKNOWN_KEPT = 500  # characters of a text not understood kept for the operators
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"\d(?:[\d .\-/]*\d){2,}")
UNSUPPORTED_KINDS = frozenset({"sticker", "photo", "voice", "video", "document", "edited", "other"})

# The messages the engine itself says (dialogs/messages.yaml) and the extra names each
# may use; features declare their own.
CORE_MESSAGES: Mapping[str, frozenset[str]] = {
    "fallback": frozenset(),
    "expired_button": frozenset(),
    "too_long": frozenset({"limit"}),
    "unsupported": frozenset({"kind"}),
    "unknown_command": frozenset({"command"}),
    "welcome_back": frozenset(),
    "dialog_updated": frozenset(),
    "fact_line": frozenset({"fact"}),
    "stage_V": frozenset(),
    "stage_I": frozenset(),
    "stage_E": frozenset(),
    "fallback_suggest": frozenset(),
    **{f"heard_{name}": frozenset[str]() for name in BUILTIN_INTENTS},
    "when": frozenset({"day", "month", "month_name", "time"}),
    "month_names": frozenset(),
    "group_only": frozenset(),  # said by the Telegram adapter in a group chat
    "not_stored": frozenset(),  # said by an adapter when a turn could not be stored
}
CORE_LENGTHS: Mapping[tuple[str, ...], int] = {
    ("limit",): 5, ("kind",): 10, ("command",): 33,
    ("day",): 2, ("month",): 2, ("month_name",): 12, ("time",): 5,
}  # fmt: skip


def step(
    dialogs: DialogSet, state: UserState, event: Event, now: datetime
) -> tuple[UserState, tuple[Effect, ...]]:
    """Process one event for one person: the new state and the effects to carry out."""
    routes = dialogs.routes
    turn = Turn(dialogs, state, now, hooks=routes.turn)
    if state.started and dialogs.renamed:
        _follow_rename(turn)
    if isinstance(event, NudgeDue):
        # Not the person's doing: nothing of theirs (an open question…) is touched.
        handler = routes.due.get(event.key)
        if handler is None:
            turn.record("nudge_stale", key=event.key)
        else:
            handler(turn, event)
        return _done(turn)
    # Any event of the person's closes the open question; the feature that asked reads
    # `turn.asked`, and asks again if the answer did not settle it.
    turn.asked = state.pending
    if state.pending is not None:
        turn.state = evolve(turn.state, pending=None)
    for hook in routes.on_action:
        hook(turn)
    if turn.state.started and turn.current() is None:
        # The dialogs changed under this person: their node is gone.
        flow = turn.state.flow
        turn.say("dialog_updated")
        turn.record("dialog_updated", flow=flow, node=turn.state.node)
        turn.enter(dialogs.part_start(flow))
        if isinstance(event, Start | Press):
            return _done(turn, active=True)

    if isinstance(event, Start):
        _on_start(turn, event)
    elif isinstance(event, Press):
        decoded = event.decoded
        if isinstance(decoded, callback.SystemPress):
            _on_system_press(turn, decoded, event.known)
        else:
            _on_press(turn, decoded)
    elif isinstance(event, Text):
        _on_text(turn, event)
    elif isinstance(event, Command):
        _on_command(turn, event)
    elif isinstance(event, Unsupported):
        kind = event.kind if event.kind in UNSUPPORTED_KINDS else "other"
        turn.record("unsupported", kind=kind)
        turn.say("unsupported", turn.buttons(turn.current()), kind=kind)
    for after in routes.after_turn:
        after(turn, state)
    return _done(turn, active=True)


def _follow_rename(turn: Turn) -> None:
    """The person stands where a renamed node used to be: they stand at the node now.
    Nothing is said and nothing is lost (a pending reminder follows them)."""
    state = turn.state
    if turn.current() is not None:
        return
    moved = turn.dialogs.renamed.get(f"{state.flow}.{state.node}")
    if moved is not None:
        turn.state = evolve(state, flow=moved.flow, node=moved.node)
        turn.record("node_moved", node=f"{state.flow}.{state.node}", to=str(moved))


def routes_of(turn: Turn) -> Routes:
    """The routes of the dialog set this turn runs on (`step` gives a turn nothing else)."""
    assert isinstance(turn.dialogs, DialogSet)
    return turn.dialogs.routes


def _done(turn: Turn, active: bool = False) -> tuple[UserState, tuple[Effect, ...]]:
    """The final state: stamped with the time, and as active now if the person acted (one
    `evolve` for both: it is a noticeable part of a step's cost)."""
    if active:
        return evolve(turn.state, updated_at=turn.now, active_at=turn.now), tuple(turn.effects)
    return evolve(turn.state, updated_at=turn.now), tuple(turn.effects)


def _on_start(turn: Turn, event: Start) -> None:
    for hook in routes_of(turn).on_start:
        if hook(turn, event):
            return
    if not turn.state.started:
        turn.record("start")
        turn.enter(turn.dialogs.entry)
        return
    turn.record("resume")
    turn.say("welcome_back")
    turn.show()


def _on_command(turn: Turn, command: Command) -> None:
    handler = routes_of(turn).commands.get(command.name)
    turn.record("command", name=command.name if handler else "unknown")
    if handler is None:
        turn.say("unknown_command", command=command.name[:32])
    else:
        handler(turn, command)


def _on_system_press(turn: Turn, press: callback.SystemPress, known: object | None) -> None:
    """The bot's own buttons, handled by the feature that owns the action (but for the
    core's own "did you mean…?")."""
    if press.action == MEANT:
        _meant(turn, press.value)
        return
    handler = routes_of(turn).presses.get(press.action)
    if handler is None:
        turn.expired("system_unknown")
    elif not handler(turn, press.value, known):
        turn.expired("system_not_pending")


def _on_press(turn: Turn, press: callback.DialogPress | None) -> None:
    node = turn.current()
    if press is None:
        turn.expired("malformed")
        return
    if node is None or not _pressed_here(turn, press, node):
        turn.expired("not_current_node")
        return
    if press.version != node.version:
        turn.expired("old_version")
        return
    button = next((b for b in node.buttons if b.id == press.button), None)
    if button is None or not turn.test(button.when):
        turn.expired("unknown_button")
        return
    turn.record("press", node=node.key, button=button.id)
    turn.set_vars(button.set)
    turn.enter(button.target)


def _pressed_here(turn: Turn, press: callback.DialogPress, node: Node) -> bool:
    """The button was shown at this node, under its id or under one it had before."""
    if (press.flow, press.node) == (node.flow, node.id):
        return True
    return turn.dialogs.renamed.get(f"{press.flow}.{press.node}") == Target(node.flow, node.id)


def _on_text(turn: Turn, event: Text) -> None:
    text = event.text
    if len(text) > TELEGRAM_TEXT_LIMIT:
        turn.state = evolve(turn.state, pending=turn.asked)  # unread: the question stays
        turn.record("too_long", length=len(text))
        turn.say("too_long", turn.buttons(turn.current()), limit=TELEGRAM_TEXT_LIMIT)
        return
    if not turn.state.started:
        _on_start(turn, Start())
        return
    node = turn.current()
    shown = _visible(turn, node)
    meaning = understand(turn.dialogs, node, shown, text, turn.state.lang)
    for hook in routes_of(turn).on_text:
        if hook(turn, node, event, meaning.found):
            return
    where = node.key if node else ""
    if meaning.button is not None:
        turn.record("text_press", node=where, button=meaning.button.id, intent=meaning.intent)
        _act(turn, meaning.button)
    elif meaning.rule is not None:
        line = meaning.rule.line
        turn.record("text_match", node=where, line=line, intent=meaning.intent)
        _act(turn, meaning.rule)
    elif meaning.heard is not None:
        # understood, but with no meaning at this step: say so, and show the way on
        turn.record("text_heard", node=where, intent=meaning.heard)
        turn.say(f"heard_{meaning.heard}", turn.buttons(node))
    else:
        _fallback(turn, node, text, meaning.suggestions)


def _visible(turn: Turn, node: Node | None) -> list[Button]:
    return [b for b in node.buttons if turn.test(b.when)] if node else []


def _act(turn: Turn, action: Button | TextRule) -> None:
    """Do what a button or a text rule says: set its variables, then go on (or, for a
    rule with a reply, say it and stay, the node's buttons again)."""
    turn.set_vars(action.set)
    if isinstance(action, TextRule) and action.target is None:
        assert action.reply is not None
        text = turn.render(action.reply[turn.state.lang], f"reply:{action.line}")
        turn.effects.append(Send(text or turn.message("fallback"), turn.buttons(turn.current())))
        return
    assert action.target is not None
    turn.enter(action.target)


def _fallback(turn: Turn, node: Node | None, text: str, suggestions: tuple[str, ...]) -> None:
    """Not understood: say so kindly, with the node's buttons and, when some intents came
    near, one button each ("did you mean…?"); keep the text for the operators."""
    where = node.key if node else ""
    turn.record("fallback", node=where, suggested=len(suggestions))
    turn.effects.append(KeepUnknown(where, turn.state.lang, redact(text)[:UNKNOWN_KEPT]))
    lang = turn.state.lang
    version = node.version if node else "x"
    near = tuple(
        ButtonView(
            turn.dialogs.intents[name].label[lang][:64],
            encode_system(MEANT, f"{version}-{name}"),  # for this node as it is now only
        )
        for name in suggestions
        if name in turn.dialogs.intents
    )
    turn.say("fallback_suggest" if near else "fallback", (*near, *turn.buttons(node)))


def redact(text: str) -> str:
    """A text kept for the operators, without what identifies someone at a glance: e-mail
    addresses, and numbers of three digits or more (phones, postcodes, accounts)."""
    return _NUMBER.sub("###", _EMAIL.sub("[e-mail]", text))


def _meant(turn: Turn, value: str) -> None:
    """A "did you mean…?" button: do what that intent does at the node it was offered at,
    if the person is still there (else it has expired, like any button of another node)."""
    node = turn.current()
    version, _, intent = value.partition("-")
    if node is None or version != node.version:
        turn.expired("meant_elsewhere")
        return
    action = action_for(turn.dialogs, node, _visible(turn, node), intent)
    if action is None:
        turn.expired("meant_unknown")
        return
    turn.record("meant", node=node.key if node else "", intent=intent)
    _act(turn, action)

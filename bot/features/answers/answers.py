"""Typed answers a node waits for (`input:`): a web link, then its shortened form. Pure.

The person pastes a long link (it must be a real http(s) address), then the short link
they made of it (it must be on one of the shorteners the dialog lists, and shorter). When
the operators switched verification on, the short link was also asked, before the step,
where it leads (`RedirectCheck` in the event): it must lead back to the long link.
"""

from __future__ import annotations

from bot.core.dialogset import DialogSet
from bot.core.events import ButtonView, Event, Text
from bot.core.links import RedirectCheck, find_web_url, on_shortener, same_target
from bot.core.model import Answer, Node
from bot.core.state import UserState
from bot.core.turn import Turn

REFUSED = ("private_address", "no_redirect")  # a verified short link must redirect, publicly


def _spec(dialogs: DialogSet, state: UserState) -> Answer | None:
    node = dialogs.node_at(state.flow, state.node)
    return None if node is None else node.input


def _original(spec: Answer, state: UserState) -> str:
    return str(state.vars.get(spec.of or "", ""))


def short_refusal(spec: Answer, url: str, original: str, known: object = None) -> str | None:
    """Why this short link is not accepted, or None: not on a listed shortener, not
    shorter than the original, or (when it was verified) not leading back to it."""
    if not on_shortener(url, spec.shorteners):
        return "not_shortener"
    if original and len(url) >= len(original):
        return "not_shorter"
    if isinstance(known, RedirectCheck) and known.url == url:
        if known.problem in REFUSED:
            return known.problem
        if known.location is not None and original and not same_target(known.location, original):
            return "elsewhere"
    return None


def to_verify(dialogs: DialogSet, state: UserState, event: Event) -> str | None:
    """The short link to ask about before the step (only one that passed every other
    check: nothing goes out for a typo), else None."""
    spec = _spec(dialogs, state)
    if spec is None or spec.kind != "short_url" or not isinstance(event, Text):
        return None
    url = find_web_url(event.text)
    if url is None or short_refusal(spec, url, _original(spec, state)) is not None:
        return None
    return url


def answer(turn: Turn, node: Node | None, event: Text, other_meaning: bool) -> bool:
    """Take typed text as the node's answer. True when handled (accepted or explained);
    False when the node waits for none, or it is not a link and means something else
    (a keyword rule matched)."""
    spec = node.input if node is not None else None
    if node is None or spec is None:
        return False
    buttons = turn.buttons(node)
    url = find_web_url(event.text)
    if url is None:
        if other_meaning:
            return False
        turn.record("answer_refused", node=node.key, reason="not_url")
        turn.say("input_not_url", buttons)
        return True
    if spec.kind == "short_url":
        original = _original(spec, turn.state)
        reason = short_refusal(spec, url, original, event.known)
        if reason is not None:
            turn.record("answer_refused", node=node.key, reason=reason)
            _explain(turn, buttons, spec, reason, url, original)
            return True
    turn.record("answer", node=node.key, kind=spec.kind)
    turn.set_vars({spec.save: url})
    if isinstance(event.known, RedirectCheck) and event.known.problem in ("timeout", "unreachable"):
        turn.say("input_unverified")
    turn.enter(spec.target)
    return True


def _explain(
    turn: Turn, buttons: tuple[ButtonView, ...], spec: Answer, reason: str, url: str, original: str
) -> None:
    if reason == "not_shortener":
        turn.say("input_not_shortener", buttons, domains=", ".join(spec.shorteners))
    elif reason == "not_shorter":
        turn.say("input_not_shorter", buttons, short=len(url), long=len(original))
    else:
        turn.say("input_wrong_target", buttons, problem=reason)

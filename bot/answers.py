"""Typed answers a node waits for (`input:`): a web link, then its shortened form. Pure.

The person pastes a long link (it must be a real http(s) address), then the short link
they made of it (it must be on one of the shorteners the dialog lists, and shorter). When
the operators switched verification on, the short link was also asked, before the step,
where it leads (`RedirectCheck` in the event): it must lead back to the long link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.dialogs.model import Answer, DialogSet, Node, Target
from bot.events import Event, Text
from bot.links import RedirectCheck, on_shortener, parse_web_url, same_target
from bot.state import UserState

if TYPE_CHECKING:
    from bot.engine import Turn

REFUSED = ("private_address", "no_redirect")  # a verified short link must redirect, publicly


def _spec(dialogs: DialogSet, state: UserState) -> Answer | None:
    if state.flow is None or state.node is None:
        return None
    node = dialogs.node(Target(state.flow, state.node))
    return None if node is None else node.input


def _acceptable_short(spec: Answer, state: UserState, url: str) -> bool:
    original = str(state.vars.get(spec.of or "", ""))
    return on_shortener(url, spec.shorteners) and (not original or len(url) < len(original))


def to_verify(dialogs: DialogSet, state: UserState, event: Event) -> str | None:
    """The short link to ask about before the step (only one that passed every other
    check: nothing goes out for a typo), else None."""
    spec = _spec(dialogs, state)
    if spec is None or spec.kind != "short_url" or not isinstance(event, Text) or state.pending:
        return None  # (a pending question gets the text first: nothing to verify)
    url = parse_web_url(event.text)
    return url if url is not None and _acceptable_short(spec, state, url) else None


def answer(turn: Turn, node: Node, event: Text, *, other_meaning: bool) -> bool:
    """Take typed text as the node's answer. True when handled (accepted or explained);
    False when it is not a link and means something else (a keyword rule matched)."""
    spec = node.input
    assert spec is not None
    buttons = turn.buttons(node)
    url = parse_web_url(event.text)
    if url is None:
        if other_meaning:
            return False
        turn.record("answer_refused", node=node.key, reason="not_url")
        turn.say("input_not_url", buttons)
        return True
    if spec.kind == "short_url":
        original = str(turn.state.vars.get(spec.of or "", ""))
        reason = _short_problem(turn, spec, url, original, event.known)
        if reason is not None:
            turn.record("answer_refused", node=node.key, reason=reason)
            return True
    turn.record("answer", node=node.key, kind=spec.kind)
    turn.set_vars({spec.save: url})
    if isinstance(event.known, RedirectCheck) and event.known.problem in ("timeout", "unreachable"):
        turn.say("input_unverified")
    turn.enter(spec.target)
    return True


def _short_problem(turn: Turn, spec: Answer, url: str, original: str, known: object) -> str | None:
    """Why this short link is not accepted (after saying so), or None."""
    buttons = turn.buttons(turn.current())
    if not on_shortener(url, spec.shorteners):
        turn.say("input_not_shortener", buttons, domains=", ".join(spec.shorteners))
        return "not_shortener"
    if original and len(url) >= len(original):
        turn.say("input_not_shorter", buttons, short=len(url), long=len(original))
        return "not_shorter"
    if isinstance(known, RedirectCheck) and known.url == url:
        elsewhere = (
            known.location is not None and original and not same_target(known.location, original)
        )
        if known.problem in REFUSED or elsewhere:
            turn.say("input_wrong_target", buttons, problem=known.problem or "elsewhere")
            return known.problem or "elsewhere"
    return None

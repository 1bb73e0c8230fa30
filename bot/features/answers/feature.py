"""Typed answers a node waits for (`input:`) as a feature, with the optional check of
where a short link leads, looked up before the step."""

from __future__ import annotations

from typing import Protocol

from bot.core.dialogset import DialogSet
from bot.core.events import Event, Text
from bot.core.feature import Feature
from bot.core.links import RedirectCheck
from bot.core.state import UserState
from bot.features.answers.answers import answer, to_verify

MESSAGES: dict[str, frozenset[str]] = {
    "input_not_url": frozenset(),
    "input_not_shortener": frozenset({"domains"}),
    "input_not_shorter": frozenset({"short", "long"}),
    "input_wrong_target": frozenset({"problem"}),
    "input_unverified": frozenset(),
}
LENGTHS: dict[tuple[str, ...], int] = {
    ("domains",): 200,
    ("short",): 5,
    ("long",): 5,
    ("problem",): 16,
}


class LinkChecker(Protocol):
    """What the lookup needs from the runtime: the dialogs, and where a short link leads
    (None when the operators left verification off)."""

    @property
    def dialogs(self) -> DialogSet: ...

    async def verify_link(self, url: str) -> RedirectCheck | None: ...


async def lookup(services: LinkChecker, state: UserState | None, event: Event) -> object | None:
    """Where the short link being answered leads, when it is worth asking (one request)."""
    if state is None or not isinstance(event, Text):
        return None
    url = to_verify(services.dialogs, state, event)
    return None if url is None else await services.verify_link(url)


def feature() -> Feature:
    return Feature(
        name="answers", on_text=answer, lookup=lookup, messages=MESSAGES, lengths=LENGTHS
    )

"""What an operator's /broadcast event needs from outside, looked up before the pure
step: the draft, the reach, the job, and the check of a text just typed. Nobody else's
events are looked at (a person who is not an operator costs no read)."""

from __future__ import annotations

from bot.core.callback import SystemPress
from bot.core.events import Command, Event, Known, Press, Text
from bot.core.feature import Lookup
from bot.core.state import UserState
from bot.features.operators.reads import BroadcastDesk, HasBroadcastDesk
from bot.features.operators.records import BROADCAST, BroadcastKnown

NAME = "operators"


def order(desk: BroadcastDesk, languages: tuple[str, ...]) -> tuple[str, ...]:
    """The languages a text is asked for: the default one first, then the others."""
    first = desk.default_language if desk.default_language in languages else languages[0]
    return (first, *(lang for lang in languages if lang != first))


def _asked(state: UserState) -> str | None:
    pending = state.pending
    if pending is None or pending.feature != NAME:
        return None
    kind, _, lang = pending.question.partition(":")
    return lang if kind == BROADCAST and lang else None


def lookup_for(admins: frozenset[int]) -> Lookup:
    async def lookup(
        services: HasBroadcastDesk, state: UserState | None, event: Event
    ) -> Known | None:
        if state is None or state.user_id not in admins:
            return None
        if isinstance(event, Command):
            wanted = event.name == BROADCAST
        elif isinstance(event, Text):
            wanted = _asked(state) is not None
        elif isinstance(event, Press) and isinstance(event.decoded, SystemPress):
            wanted = event.decoded.action == BROADCAST
        else:
            wanted = False
        desk = services.broadcasts
        if not wanted or desk is None:
            return None  # the feature then says that broadcasts are off here
        dialogs = services.dialogs
        known = BroadcastKnown(order(desk, dialogs.languages), status=await desk.reads.status())
        if isinstance(event, Command):
            return known
        lang = _asked(state)
        checked = (
            desk.check(dialogs, event.text, lang) if isinstance(event, Text) and lang else None
        )
        draft = await desk.reads.draft(state.user_id)
        reach = await desk.reads.reach()
        return BroadcastKnown(known.order, draft, reach, known.status, checked)

    return lookup

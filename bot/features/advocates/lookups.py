"""What an event needs from the store, looked up *before* the pure step.

The engine never reads the store. When an event needs something only the store knows
(the invitation a deep link names, a page of friends, the alerts waiting for an
advocate), the conversation layer calls `enrich`, which looks it up and hands it to the
engine in the event's `known` field. Fresh invitation codes are drawn here too, since
the engine draws no random numbers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.core.callback import SystemPress
from bot.core.events import Command, Event, Known, NudgeDue, Press, Start, Text
from bot.core.state import UserState
from bot.core.textmatch import normalize
from bot.features.advocates import invites
from bot.features.advocates.dashboard import friends_cursor
from bot.features.advocates.reads import AdvocateReads, HasAdvocateReads
from bot.features.advocates.records import (
    ALERTS_KEY,
    FRIENDS_PER_PAGE,
    REFERRER_QUESTION,
    Invitation,
)
from bot.features.advocates.state import ADVOCACY, NAME


async def lookup(services: HasAdvocateReads, state: UserState | None, event: Event) -> Known | None:
    """What the event needs from the store for the advocate features (None: nothing)."""
    reads = services.advocates
    new = state is None or not state.started
    if isinstance(event, Start):
        return await reads.invitation(payload=event.payload) if event.payload and new else None
    if state is None:
        return None
    me = state.user_id
    if isinstance(event, NudgeDue):
        return await reads.pending_alerts(me) if event.key == ALERTS_KEY else None
    if isinstance(event, Text):
        asked = state.pending is not None and (state.pending.feature, state.pending.question)
        if asked == (NAME, REFERRER_QUESTION) and ADVOCACY.of(state).referrer is None:
            return await _typed_invitation(reads, state, event.text)
        return None
    if isinstance(event, Command):
        if event.name in _COMMANDS:
            return await _COMMANDS[event.name](reads, state, event.args)
        return None
    if isinstance(event, Press) and isinstance(event.decoded, SystemPress):
        press = event.decoded
        if press.action in ("revoke", "letter"):
            return await reads.invitation(code=press.value)
        if press.action == "friends":
            page, after, before = friends_cursor(press.value)
            shown = await reads.friends_page(me, FRIENDS_PER_PAGE, page, after, before)
            if not shown.friends and (after or before):  # a stale or forged cursor
                shown = await reads.friends_page(me, FRIENDS_PER_PAGE)
            return shown
        if press.action in ("invite", "invites", "helped"):
            return await _COMMANDS[press.action](reads, state, "")
    return None


async def _typed_invitation(reads: AdvocateReads, state: UserState, text: str) -> Known | None:
    """The invitation a newcomer typed: a pasted link, a code, or their friend's name."""
    typed = invites.read_typed(text)
    found = None
    if typed.payload:
        found = await reads.invitation(payload=typed.payload)
    if found is None and typed.code:
        found = await reads.invitation(code=typed.code)
    if found is None:
        found = await reads.invitation_by_names(typed.name, state.first_name)
    return found


async def _invites(reads: AdvocateReads, state: UserState, args: str) -> Known:
    return await reads.invitations(state.user_id)


async def _friends(reads: AdvocateReads, state: UserState, args: str) -> Known:
    return await reads.friends_page(state.user_id, FRIENDS_PER_PAGE)


async def _helped(reads: AdvocateReads, state: UserState, args: str) -> Known:
    return await reads.helped(state.user_id)


async def _open_or_new(reads: AdvocateReads, state: UserState, name: str) -> Invitation:
    """The advocate's open invitation with this name, else a fresh one to create."""
    name = invites.clean_name(name)
    if not normalize(name):  # "🙂" or "???": no name to tell it apart, the personal link
        name = ""
    existing, active = await reads.open_invitation(state.user_id, name)
    if existing is not None:
        return replace(existing, active=active)
    return invites.new_invitation(state.user_id, state.first_name, name, active)


# What each command shows, looked up (its buttons of the same name show the same).
_COMMANDS: dict[str, Callable[[AdvocateReads, UserState, str], Awaitable[Known]]] = {
    "invite": _open_or_new,
    "invites": _invites,
    "friends": _friends,
    "helped": _helped,
    "leaderboard": _helped,  # its old name, still understood
}

"""What an event needs from the store, looked up *before* the pure step.

The engine never reads the store. When an event needs something only the store knows
(the invitation a deep link names, a page of friends, the alerts waiting for an
advocate), the conversation layer calls `enrich`, which looks it up and hands it to the
engine in the event's `known` field. Fresh invitation codes are drawn here too, since
the engine draws no random numbers.
"""

from __future__ import annotations

from dataclasses import replace

from bot.core import callback
from bot.core.events import Command, Event, Known, NudgeDue, Press, Start, Text, Unsupported
from bot.core.state import UserState
from bot.core.textmatch import normalize
from bot.features.advocates import invites
from bot.features.advocates.dashboard import friends_cursor
from bot.features.advocates.records import (
    ALERTS_KEY,
    FRIENDS_PER_PAGE,
    REFERRER_QUESTION,
    Invitation,
)
from bot.store.interfaces import AdvocateReads


async def enrich(
    reads: AdvocateReads, state: UserState | None, event: Event, first_name: str = ""
) -> Event:
    """The event with what it needs looked up in `known` (unchanged if it needs nothing)."""
    if isinstance(event, Unsupported):
        return event
    known = await _lookup(reads, state, event, first_name)
    return event if known is None else replace(event, known=known)


async def _lookup(
    reads: AdvocateReads, state: UserState | None, event: Event, first_name: str
) -> Known | None:
    new = state is None or not state.started
    if isinstance(event, Start):
        return await reads.invitation(payload=event.payload) if event.payload and new else None
    if state is None:
        return None
    me = state.user_id
    if isinstance(event, NudgeDue):
        return await reads.pending_alerts(me) if event.key == ALERTS_KEY else None
    if isinstance(event, Text) and state.pending == REFERRER_QUESTION and state.referrer is None:
        typed = invites.read_typed(event.text)
        found = None
        if typed.payload:
            found = await reads.invitation(payload=typed.payload)
        if found is None and typed.code:
            found = await reads.invitation(code=typed.code)
        if found is None:
            found = await reads.invitation_by_names(typed.name, first_name or state.first_name)
        return found
    if isinstance(event, Command):
        if event.name == "invite":
            return await _open_or_new(reads, state, event.args)
        if event.name == "invites":
            return await reads.invitations(me)
        if event.name == "friends":
            return await reads.friends_page(me, FRIENDS_PER_PAGE)
        if event.name == "leaderboard":
            return await reads.leaderboard(me)
        return None
    if isinstance(event, Press):
        press = callback.decode(event.data)
        if not isinstance(press, callback.SystemPress):
            return None
        if press.action == "invite":
            return await _open_or_new(reads, state, "")
        if press.action == "invites":
            return await reads.invitations(me)
        if press.action == "revoke":
            return await reads.invitation(code=press.value)
        if press.action == "friends":
            page, after, before = friends_cursor(press.value)
            shown = await reads.friends_page(me, FRIENDS_PER_PAGE, page, after, before)
            if not shown.friends and (after or before):  # a stale or forged cursor
                shown = await reads.friends_page(me, FRIENDS_PER_PAGE)
            return shown
    return None


async def _open_or_new(reads: AdvocateReads, state: UserState, name: str) -> Invitation:
    """The advocate's open invitation with this name, else a fresh one to create."""
    name = invites.clean_name(name)
    if not normalize(name):  # "🙂" or "???": no name to tell it apart, the personal link
        name = ""
    existing, active = await reads.open_invitation(state.user_id, name)
    if existing is not None:
        return replace(existing, active=active)
    return invites.new_invitation(state.user_id, state.first_name, name, active)

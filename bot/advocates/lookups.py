"""What an event needs from the store, looked up *before* the pure step.

The engine never reads the store. When an event needs something only the store knows
(the invitation a deep link names, a page of friends, the alerts waiting for an
advocate), the conversation layer calls `enrich`, which looks it up and hands it to the
engine in the event's `known` field. Fresh invitation codes are drawn here too, since
the engine draws no random numbers.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Protocol

from bot import callback
from bot.advocates import invites
from bot.advocates.records import (
    FRIENDS_PER_PAGE,
    AlertBatch,
    FriendsPage,
    Invitation,
    InviteList,
    Leaderboard,
)
from bot.events import Command, Event, Known, NudgeDue, Press, Start, Text, Unsupported
from bot.state import UserState
from bot.textmatch import normalize

ALERTS_KEY = "alerts"  # the advocate's alert delivery, in the nudge outbox
DORMANT_KEY = "dormant"  # the friend's "have they gone quiet?" check, in the outbox
REFERRER_QUESTION = "referrer"  # `pending` while "who invited you?" awaits an answer
_CURSOR = re.compile(r"^([np])([0-9]{1,6})_([0-9]{1,15})_(-?[0-9]{1,18})$")  # fits 64 bits


class AdvocateReads(Protocol):
    """The store's read queries for advocates (`SqliteStore.advocates`)."""

    async def invitation(self, *, payload: str = "", code: str = "") -> Invitation | None: ...

    async def invitation_by_names(self, advocate_name: str, newcomer: str) -> Invitation | None: ...

    async def open_invitation(
        self, advocate_id: int, name: str
    ) -> tuple[Invitation | None, int]: ...

    async def invitations(self, advocate_id: int, limit: int = 20) -> InviteList: ...

    async def friends_page(
        self,
        advocate_id: int,
        size: int,
        page: int = 1,
        after: tuple[int, int] | None = None,
        before: tuple[int, int] | None = None,
    ) -> FriendsPage: ...

    async def leaderboard(self, user_id: int, limit: int = 10) -> Leaderboard: ...

    async def pending_alerts(self, advocate_id: int, limit: int = 200) -> AlertBatch: ...


def friends_cursor(value: str) -> tuple[int, tuple[int, int] | None, tuple[int, int] | None]:
    """`!friends:` button values: "1" (first page), or `n<page>_<ms>_<id>` (the page after
    that friend) or `p<page>_<ms>_<id>` (before). Anything else is the first page."""
    m = _CURSOR.match(value)
    if m is None:
        return 1, None, None
    direction, page, ms, friend = m.groups()
    cursor, number = (int(ms), int(friend)), max(1, int(page))
    return (number, cursor, None) if direction == "n" else (number, None, cursor)


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

"""One conversation turn, the same for every adapter: load, step, save, then deliver.

The state, the event log and (for Telegram) the replies in the outbox and the update
answered are committed in one statement *before* anything is sent, so a crash never
leaves half a turn stored: an update is either waiting in the inbox or answered in the
outbox. Turns of one person run strictly one after another; different people run
concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.core.dialogset import DialogSet
from bot.core.engine import step
from bot.core.events import (
    Effect,
    Event,
    ExportUserData,
    ForgetUser,
    NudgeDue,
    Send,
    Unsupported,
)
from bot.core.links import RedirectCheck
from bot.core.render import TELEGRAM_TEXT_LIMIT, visible_length
from bot.core.state import UserState, evolve, new_state
from bot.core.turn import Turn
from bot.errors import StoreError
from bot.features.advocates.reads import AdvocateReads
from bot.features.operators.feature import ReloadDialogs, ReloadOutcome, reload_replies
from bot.features.operators.reads import BroadcastDesk
from bot.features.privacy.feature import export_replies
from bot.store.failures import DATABASE_ERRORS, described
from bot.store.interfaces import Store
from bot.store.queues import Delivery, Outgoing, shown_body

log = logging.getLogger(__name__)
VerifyLink = Callable[[str], Awaitable[RedirectCheck]]  # where does this short link lead?
# Carries out one kind of a feature's effect, during the turn (the person's lock held,
# the turn not yet stored), and says what to send after the turn's own messages.
CarryOut = Callable[[Any, Turn], Awaitable[list[Send]]]


def coalesce(messages: list[Send]) -> list[Send]:
    """Join consecutive messages into one while it fits: one notification, not three.

    Only one keyboard fits under a message, so two messages that both have buttons stay
    apart; a text after a message with buttons joins it, the buttons going to the end. A
    file is a message of its own.
    """
    out: list[Send] = []
    for message in messages:
        last = out[-1] if out else None
        if (
            last is not None
            and last.document is None
            and message.document is None
            and not (last.buttons and message.buttons)
        ):
            joined = f"{last.text}\n\n{message.text}"
            if visible_length(joined) <= TELEGRAM_TEXT_LIMIT:
                out[-1] = Send(joined, last.buttons or message.buttons)
                continue
        out.append(message)
    return out


@dataclass(frozen=True, slots=True)
class Services:
    """What the features' lookups may use before a step: the dialogs, the store's reads,
    the one outside request (where a short link leads; None when it is off), and what
    /broadcast reads and checks (None: this way of running sends no broadcasts)."""

    dialogs: DialogSet
    store: Store
    link_check: VerifyLink | None = None
    broadcasts: BroadcastDesk | None = None

    @property
    def advocates(self) -> AdvocateReads:
        return self.store.advocates

    async def verify_link(self, url: str) -> RedirectCheck | None:
        return None if self.link_check is None else await self.link_check(url)


@dataclass(frozen=True, slots=True)
class Route:
    """Where a turn's replies go when they go through the outbox: the chat, the update
    they answer (its inbox row is done in the same statement), and rows to send before
    them (the mark of the button pressed)."""

    chat_id: int
    update_id: int | None = None
    before: tuple[Outgoing, ...] = ()

    def delivery(self, replies: list[Send]) -> Delivery:
        rows = (*self.before, *(Outgoing.message(self.chat_id, r) for r in replies))
        return Delivery(self.update_id, rows)


@dataclass(frozen=True, slots=True)
class Person:
    """Who sent an event, as the adapter knows them (Telegram user, terminal name)."""

    user_id: int
    first_name: str = ""
    language_code: str | None = None


class Conversations:
    """Runs turns for many people against one dialog set and one store."""

    def __init__(
        self,
        dialogs: DialogSet,
        store: Store,
        default_language: str,
        verify_link: VerifyLink | None = None,
    ) -> None:
        self.dialogs = dialogs
        self.store = store
        self.default_language = default_language
        # asks where a short link leads (one HEAD request); None: short links not verified
        self.services = Services(dialogs, store, verify_link)
        self._lookups = tuple(f.lookup for f in dialogs.features if f.lookup is not None)
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self.queued: Callable[[], None] = lambda: None  # told when rows reach the outbox
        # checks the dialog files again and swaps them in (`vie-coach run`); None: cannot
        self.reload: Callable[[], Awaitable[ReloadOutcome]] | None = None
        # effects the runtime carries out, by type (the app adds its own: /broadcast…)
        self.carry_out: dict[type, CarryOut] = {ReloadDialogs: self._reloaded}

    def swap(self, dialogs: DialogSet) -> None:
        """Serve `dialogs` from the next turn on (a reload). A turn already running ends
        on the set it began with: each turn reads `self.dialogs` once."""
        self.dialogs = dialogs
        self.services = replace(self.services, dialogs=dialogs)

    def language_for(self, code: str | None) -> str:
        """Telegram's `language_code` ('fr-CA') to a configured language."""
        short = (code or "").split("-")[0].lower()
        return short if short in self.dialogs.languages else self.default_language

    def _lock(self, user_id: int) -> asyncio.Lock:
        lock = self._locks.get(user_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[user_id] = lock
        return lock

    async def handle(
        self, person: Person, event: Event, now: datetime, route: Route | None = None
    ) -> list[Send]:
        """Process one event; return the messages to send, in order.

        With a `route`, the messages are stored in the outbox with the turn (the sender
        delivers them) and the update it names is marked answered; without one (the
        terminal, the chat harness) the caller shows them itself.
        """
        # this process's lock first: the store's (other workers') is then taken once
        async with self._lock(person.user_id), self.store.locks.person(person.user_id):
            try:
                replies = await self._turn(person, event, now, route)
            except DATABASE_ERRORS as exc:
                where = getattr(self.store, "path", "store")
                raise StoreError(f"{where}: {described(exc)}") from exc
        if route is not None:
            self.queued()
        return replies

    async def _turn(
        self, person: Person, event: Event, now: datetime, route: Route | None
    ) -> list[Send]:
        before = await self.store.load(person.user_id)
        state = before or new_state(person.user_id, self.language_for(person.language_code), now)
        if person.first_name and person.first_name != state.first_name:
            state = evolve(state, first_name=person.first_name[:64])
        if state.blocked:  # they are writing to us: they have unblocked the bot
            state = evolve(state, blocked=False)
        dialogs, services = self.dialogs, self.services  # one set for the whole turn
        event = await self.look_up(state, event, services)
        after, effects = step(dialogs, state, event, now)
        sends = [e for e in effects if isinstance(e, Send)]
        if any(isinstance(e, ForgetUser) for e in effects):
            sends = coalesce(sends)
            await self.store.forget(person.user_id, self._delivery(route, sends))
            log.info("user %s erased their data", person.user_id)
            return sends
        if any(isinstance(e, ExportUserData) for e in effects):
            # read before the turn is stored, so that the copy goes out with it
            sends.extend(await self._export(after, now))
        sends.extend(await self._carried_out(dialogs, after, now, effects))
        sends = coalesce(sends)
        # State, event log, milestones, nudges, invitations, alerts, replies: one statement.
        delivery = self._delivery(route, sends)
        await self.store.save(before, after, effects, dialogs.milestone_stage, delivery)
        return sends

    async def _carried_out(
        self, dialogs: DialogSet, after: UserState, now: datetime, effects: Sequence[Effect]
    ) -> list[Send]:
        """Each effect whose type has a handler in `carry_out`, in order: what they say."""
        said: list[Send] = []
        turn: Turn | None = None
        for effect in effects:
            handler = self.carry_out.get(type(effect))
            if handler is not None:
                turn = turn or Turn(dialogs, after, now)
                said.extend(await handler(effect, turn))
        return said

    async def _reloaded(self, effect: ReloadDialogs, turn: Turn) -> list[Send]:
        """/reload: the reload, then its report in the words of the set served now."""
        outcome = ReloadOutcome("off") if self.reload is None else await self.reload()
        return reload_replies(Turn(self.dialogs, turn.state, turn.now), outcome)

    @staticmethod
    def _delivery(route: Route | None, sends: list[Send]) -> Delivery:
        return Delivery() if route is None else route.delivery(sends)

    async def look_up(
        self, state: UserState | None, event: Event, services: Services | None = None
    ) -> Event:
        """The event with what the first feature that needs something found in `known`
        (`services`: those of the dialog set the turn runs on, read once with it)."""
        if isinstance(event, Unsupported):
            return event
        services = services or self.services
        for lookup in self._lookups:
            known = await lookup(services, state, event)
            if known is not None:
                return replace(event, known=known)
        return event

    async def handle_due(self, user_id: int, event: NudgeDue, now: datetime) -> list[Send]:
        """A due nudge (or alert): decide, then store the new state, the messages in the
        outbox and the nudge's completion in one statement. A crash before it leaves the
        nudge in flight, claimed again after its lease: never lost, never sent twice."""
        async with self._lock(user_id), self.store.locks.person(user_id):
            before = await self.store.load(user_id)
            if before is None:
                return []  # erased meanwhile (the outbox row went with them)
            dialogs, services = self.dialogs, self.services
            enriched = await self.look_up(before, event, services)
            after, effects = step(dialogs, before, enriched, now)
            sends = [e for e in effects if isinstance(e, Send)]
            sends = coalesce(sends + await self._carried_out(dialogs, after, now, effects))
            rows = tuple(Outgoing.message(user_id, s, "nudge") for s in sends)
            delivery = Delivery(outgoing=rows, nudge_done=(event.key, event.due))
            await self.store.save(before, after, effects, dialogs.milestone_stage, delivery)
        if rows:
            self.queued()
        return sends

    async def _export(self, state: UserState, now: datetime) -> list[Send]:
        """/mydata: a summary in the person's words, then everything as a JSON file."""
        data = await self.store.export(state.user_id)
        for row in data.get("outbox", ()):  # a copy not sent yet: by its name, not its bytes
            row["body"] = shown_body(row["body"])
        return export_replies(Turn(self.dialogs, state, now), data)

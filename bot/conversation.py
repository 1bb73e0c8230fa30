"""One conversation turn, the same for every adapter: load, step, save, then deliver.

The state and the event log are committed in one transaction *before* anything is sent,
so a crash loses at most the event being processed and never leaves half a turn stored.
Turns of one person run strictly one after another; different people run concurrently.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import sqlite3
import weakref
from dataclasses import dataclass, replace
from datetime import datetime

from bot.dialogs.model import DialogSet
from bot.engine import render_message, step
from bot.errors import StoreError
from bot.events import Event, ExportUserData, ForgetUser, Record, Send
from bot.interfaces import Store
from bot.render import TELEGRAM_TEXT_LIMIT
from bot.state import UserState, new_state

log = logging.getLogger(__name__)
_EXPORT_CHUNK = TELEGRAM_TEXT_LIMIT - 200


@dataclass(frozen=True, slots=True)
class Person:
    """Who sent an event, as the adapter knows them (Telegram user, terminal name)."""

    user_id: int
    first_name: str = ""
    language_code: str | None = None


class Conversations:
    """Runs turns for many people against one dialog set and one store."""

    def __init__(self, dialogs: DialogSet, store: Store, default_language: str) -> None:
        self.dialogs = dialogs
        self.store = store
        self.default_language = default_language
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

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

    async def handle(self, person: Person, event: Event, now: datetime) -> list[Send]:
        """Process one event; return the messages to send, in order."""
        async with self._lock(person.user_id):
            try:
                return await self._turn(person, event, now)
            except sqlite3.Error as exc:
                raise StoreError(f"{getattr(self.store, 'path', 'store')}: {exc}") from exc

    async def _turn(self, person: Person, event: Event, now: datetime) -> list[Send]:
        before = await self.store.load(person.user_id)
        state = before or new_state(person.user_id, self.language_for(person.language_code), now)
        if person.first_name and person.first_name != state.first_name:
            state = replace(state, first_name=person.first_name[:64])
        after, effects = step(self.dialogs, state, event, now)
        sends = [e for e in effects if isinstance(e, Send)]
        if any(isinstance(e, ForgetUser) for e in effects):
            await self.store.forget(person.user_id)
            log.info("user %s erased their data", person.user_id)
            return sends
        records = [e for e in effects if isinstance(e, Record)]
        await self.store.save(before, after, records, self.dialogs.milestone_stage)
        if any(isinstance(e, ExportUserData) for e in effects):
            sends.extend(await self._export(after))
        return sends

    async def _export(self, state: UserState) -> list[Send]:
        data = await self.store.export(state.user_id)
        intro = render_message(self.dialogs, state, "mydata_intro")
        dump = json.dumps(data, ensure_ascii=False, indent=1, default=str)
        chunks = [dump[i : i + _EXPORT_CHUNK] for i in range(0, len(dump), _EXPORT_CHUNK)]
        return [Send(intro)] + [Send(f"<pre>{html.escape(c, quote=False)}</pre>") for c in chunks]

"""Long polling that loses nothing: an update is in the inbox before the next
`getUpdates` tells Telegram it arrived.

PTB's own updater confirms updates as soon as they are in its memory queue, and stops for
good on one update it cannot parse. Here each batch is fetched as raw JSON, stored in one
insert (known ids ignored), and only then does the offset move past it; updates are read
one by one later, by the inbox processor, where one bad update is set aside alone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.warnings import PTBUserWarning

from bot.runtime.clock import utc_now
from bot.runtime.metrics import Metrics
from bot.store.interfaces import Inbox
from bot.store.queues import owner_of

log = logging.getLogger(__name__)
# getUpdates is asked for as raw JSON on purpose (`Bot.get_updates` parses the whole batch
# at once, and one update it cannot parse would fail all of them): PTB's advice to use
# `Bot.get_updates` does not apply here.
warnings.filterwarnings("ignore", message="Please use 'Bot.getUpdates'", category=PTBUserWarning)
Raw = dict[str, Any]
Direct = Callable[[Sequence[Raw]], Awaitable[None]]  # handle a batch the inbox refused


def inbox_rows(batch: Sequence[Raw]) -> list[tuple[int, str, int | None]]:
    """(update id, raw JSON, owner) for the inbox; an item without an id cannot be kept."""
    rows = []
    for item in batch:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if not isinstance(update_id, int):
            log.warning("an update without an id was skipped")
            continue
        rows.append((update_id, json.dumps(item, ensure_ascii=False), owner_of(item)))
    return rows


class Poller:
    """`getUpdates` in a loop, storing each batch before confirming it."""

    def __init__(
        self,
        bot: Bot,
        inbox: Inbox,
        stored: Callable[[], None],
        direct: Direct,
        *,
        clock: Callable[[], datetime] = utc_now,
        timeout: int = 10,
        longest_pause: float = 10.0,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics
        self.bot, self.inbox, self.stored, self.direct = bot, inbox, stored, direct
        self.clock, self.timeout, self.longest_pause = clock, timeout, longest_pause
        self.offset: int | None = None
        self.last_success: datetime | None = None
        self._closed = False

    def close(self) -> None:
        self._closed = True

    async def run(self) -> None:
        """Poll until closed. A wrong token stops the bot (nothing would ever work)."""
        pause = 0.5
        while not self._closed:
            try:
                batch = await self.fetch()
            except InvalidToken:
                raise
            except Conflict as exc:  # another instance polls, or a webhook is set
                log.error("Telegram refuses to give us updates: %s", exc)
                await asyncio.sleep(self.longest_pause)
                continue
            except TelegramError as exc:
                if self.metrics is not None:
                    self.metrics.telegram_errors.inc()
                log.warning("getUpdates failed (%s): again in %.1f s", exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.longest_pause)
                continue
            pause = 0.5
            self.last_success = self.clock()
            if self.metrics is not None:
                self.metrics.telegram_answered(self.last_success)
            if batch:
                await self.keep(batch)

    async def fetch(self) -> list[Raw]:
        """One long poll, confirming everything before `offset`, as raw JSON."""
        kwargs: dict[str, Any] = {"timeout": self.timeout, "allowed_updates": Update.ALL_TYPES}
        if self.offset is not None:
            kwargs["offset"] = self.offset
        result = await self.bot.do_api_request(
            "getUpdates", api_kwargs=kwargs, read_timeout=self.timeout + 5
        )
        return (
            [item for item in result if isinstance(item, dict)] if isinstance(result, list) else []
        )

    async def keep(self, batch: Sequence[Raw]) -> None:
        """Store the batch (one insert), then move the offset past it. When the store
        refuses (disk full), the batch is handled at once without it: its people are
        told to send again, rather than their messages staying unanswered."""
        rows = inbox_rows(batch)
        try:
            await self.inbox.add(rows, self.clock())
        except Exception as exc:
            log.error("could not store %d update(s) (%s): handled without the inbox",
                      len(rows), type(exc).__name__)  # fmt: skip
            await self.direct(batch)
        else:
            self.stored()
        ids = [row[0] for row in rows]
        if ids:
            self.offset = max(ids) + 1

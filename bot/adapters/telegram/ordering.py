"""Updates of one person strictly in order; different people concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def owner(update: object) -> int | None:
    """Whose updates must not overtake each other: the user, else the chat."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Runs up to `max_concurrent_updates` at once, but one person's one after another.

    PTB starts update tasks in arrival order and nothing awaits before the per-person lock
    is requested, and asyncio locks wake waiters first-come first-served: so each person's
    updates run in the order Telegram sent them.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}  # key -> (lock, users of it)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = owner(update)
        if key is None:
            await coroutine
            return
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

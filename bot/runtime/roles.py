"""Roles only one worker plays at a time: sending (the send limits are then one process's
and hold for all the workers together) and polling `getUpdates` (Telegram answers 409 to a
second poller). Every worker tries for each role; the one that gets the role's lock plays
it until it stops or its lock is lost; the others try again every `every` seconds, so a
worker killed with -9 is replaced within about that long (its database session, and so
its lock, ends with it).

With a store that one process serves alone (SQLite), every role is taken at the first
try, at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.store.interfaces import Locks

log = logging.getLogger(__name__)


class Role:
    """Plays `play` while this worker holds the role; `step_down` when it must stop."""

    def __init__(
        self,
        locks: Locks,
        name: str,
        play: Callable[[], Awaitable[None]],
        step_down: Callable[[], Awaitable[None]],
        *,
        every: float = 1.0,
    ) -> None:
        self.locks, self.name = locks, name
        self.play, self.step_down = play, step_down
        self.every = every
        self.held = False
        self._generation = -1
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.taken = asyncio.Event()  # set while this worker plays the role

    async def begin(self) -> None:
        """Try once now (a lone process plays every role from the start), then keep
        trying in the background."""
        await self._try()
        self._task = asyncio.create_task(self._keep_trying(), name=f"role-{self.name}")

    async def _try(self) -> None:
        try:
            if self.held:
                lost = self.locks.generation != self._generation or not await self.locks.alive()
                if lost:
                    log.warning("this worker lost the %s role (database session)", self.name)
                    await self._let_go(release=False)
            elif await self.locks.try_role(self.name):
                self.held, self._generation = True, self.locks.generation
                log.info("this worker takes the %s role", self.name)
                await self.play()
                self.taken.set()
        except Exception:
            log.exception("the %s role: could not ask the database; trying again", self.name)

    async def _keep_trying(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.every)
            if not self._stop.is_set():
                await self._try()

    async def _let_go(self, *, release: bool) -> None:
        self.held = False
        self.taken.clear()
        await self.step_down()
        if release:
            with contextlib.suppress(Exception):  # the session may be gone: so is the lock
                await self.locks.release_role(self.name)

    async def end(self) -> None:
        """Stop trying, and step down if this worker plays the role."""
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self.held:
            await self._let_go(release=True)

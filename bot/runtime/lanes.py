"""Lanes: work queued by key (a person, a chat), each key's items served by one task at a
time and in order, different keys concurrently. The inbox processor and the sender are
both made of them, and both are run by `keep_pumping`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class Lanes(Generic[K, T]):
    """One FIFO queue per key, and one worker task per non-empty queue.

    `serve(key, queue)` takes items off the front of its queue as it finishes them; a
    lane and its task go once the queue is empty.
    """

    def __init__(self, serve: Callable[[K, deque[T]], Awaitable[None]]) -> None:
        self._serve = serve
        self.queues: dict[K, deque[T]] = {}
        self.workers: dict[K, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    def queue(self, key: K) -> deque[T]:
        return self.queues.setdefault(key, deque())

    @property
    def backlog(self) -> int:
        """Items queued and not finished."""
        return sum(len(q) for q in self.queues.values())

    def start(self) -> None:
        """A worker for every queue that has none."""
        for key in list(self.queues):
            if key not in self.workers:
                self._idle.clear()
                self.workers[key] = asyncio.create_task(self._work(key))

    async def idle(self) -> None:
        """Until no worker is left."""
        await self._idle.wait()

    async def stop(self, grace: float) -> None:
        """Give the workers `grace` seconds, then cancel those still busy."""
        if self.workers:
            _, late = await asyncio.wait(list(self.workers.values()), timeout=grace)
            for worker in late:
                worker.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _work(self, key: K) -> None:
        queue = self.queues[key]
        try:
            await self._serve(key, queue)
        finally:
            if not queue:
                self.queues.pop(key, None)
            self.workers.pop(key, None)
            if not self.workers:
                self._idle.set()


async def keep_pumping(
    pump: Callable[[], Awaitable[int]],
    wake: asyncio.Event,
    closed: Callable[[], bool],
    tick: float,
    what: str,
    log: logging.Logger,
) -> None:
    """Call `pump` until `closed()`: at once when `wake` is set, else every `tick`. A
    failing look is logged and tried again at the next one."""
    while not closed():
        try:
            await pump()
        except Exception:
            log.exception("could not read the %s; trying again in %.0f s", what, tick)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), tick)

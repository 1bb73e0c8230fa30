"""The inbox processor: takes the stored updates and has them handled, one person's in the
order they arrived, different people's concurrently.

An update leaves the inbox when the turn that answers it is stored (same statement), or
when its handler says it needed no turn. One that cannot be read, or whose handling
fails for a reason that is not the store's, is set aside by id and never blocks the
others; one whose turn could not be stored (disk full) was answered "please send it
again" by its handler, and is settled as soon as the store lets us.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.errors import VieError
from bot.runtime.clock import utc_now
from bot.runtime.lanes import Lanes, keep_pumping
from bot.runtime.metrics import Metrics
from bot.store.interfaces import Inbox, Locks
from bot.store.queues import Waiting

log = logging.getLogger(__name__)


class Unreadable(VieError):
    """An update whose shape we cannot read: it is set aside (`vie-coach poison`)."""


# Seconds before a worker that found a person's lock taken looks at the inbox again
_LOOK_AGAIN = 0.25
Handle = Callable[[Waiting], Awaitable[bool]]  # True: a turn answered it (and settled it)


def _id(row: Waiting) -> int:
    return row.update_id


class InboxProcessor:
    """Runs `handle` for every waiting update (see the module's docstring)."""

    def __init__(
        self,
        inbox: Inbox,
        handle: Handle,
        *,
        clock: Callable[[], datetime] = utc_now,
        concurrency: int = 256,
        metrics: Metrics | None = None,
        shared: Locks | None = None,
    ) -> None:
        self.inbox, self.handle, self.clock = inbox, handle, clock
        # several workers on one database: a person's updates are served only while their
        # lock is held, and read again from the store once it is (see `_serve_shared`)
        self.shared = shared
        self.metrics = metrics or Metrics()
        self._slots = asyncio.Semaphore(concurrency)
        self.lanes: Lanes[object, Waiting] = Lanes(self._serve)  # by owner
        # ids read and not finished: webhook calls run concurrently, so a lower id can be
        # stored after a higher one; each look reads every waiting row and skips these
        self._in_hand: set[int] = set()
        # finished since the last look began: still in hand until a look that began after
        # they were finished (one that began before may read them as waiting still)
        self._gone: set[int] = set()
        self._unsettled: list[int] = []  # answered, but the store refused to mark them
        self._wake = asyncio.Event()
        self._closed = False

    def wake(self) -> None:
        self._wake.set()

    async def run(self, tick: float = 5.0) -> None:
        """Process until closed: woken by `wake` (a new batch), else every `tick`."""
        await keep_pumping(self.pump, self._wake, lambda: self._closed, tick, "inbox", log)

    async def pump(self) -> int:
        """Read the updates stored since the last look and start their owners' queues."""
        self._wake.clear()
        if self._unsettled:
            batch, self._unsettled = self._unsettled, []
            try:
                await self.inbox.done(batch, self.clock())
            except Exception:
                self._unsettled.extend(batch)
            else:
                self._gone.update(batch)
        found = 0
        if not self._closed:
            gone, self._gone = self._gone, set()
            limit = len(self._in_hand) + 1000
            rows = await self.inbox.waiting(limit=limit)
            self._in_hand.difference_update(gone)  # this look cannot have read them
            for row in rows:
                if row.update_id in self._in_hand:
                    continue
                self._in_hand.add(row.update_id)
                key: object = row.owner if row.owner is not None else ("update", row.update_id)
                queue = self.lanes.queue(key)
                if queue and queue[-1].update_id > row.update_id:  # stored late: its place
                    # among those not started (the first one may be running already)
                    head, *others = queue
                    queue.clear()
                    queue.extend([head, *sorted([*others, row], key=_id)])
                else:
                    queue.append(row)
                found += 1
            if len(rows) == limit:
                self._wake.set()  # more than one look's worth: look again soon
        self.lanes.start()
        return found

    async def flush(self) -> None:
        """Process everything stored so far (tests)."""
        await self.pump()
        await self.lanes.idle()

    async def close(self, grace: float = 5.0) -> None:
        """Stop taking updates; give those in hand `grace` seconds (the rest wait in the
        inbox for the next start)."""
        self._closed = True
        self._wake.set()
        await self.lanes.stop(grace)

    async def _serve(self, key: object, queue: deque[Waiting]) -> None:
        if self.shared is not None and isinstance(key, int):
            await self._serve_shared(key, queue, self.shared)
            return
        while queue and not self._closed:
            async with self._slots:
                await self._one(queue[0])
            done = queue.popleft().update_id
            if done not in self._unsettled:  # else kept in hand: never handled twice
                self._gone.add(done)

    async def _serve_shared(self, owner: int, queue: deque[Waiting], locks: Locks) -> None:
        """One person's updates when other workers may hold some of them too (each
        worker stores what its webhook receives). Only the holder of the person's lock
        serves them, from the store's list, in update order. A worker that finds the
        lock taken leaves them to the holder, which looks once more after letting go: an
        update stored meanwhile is served by one of the two, never left waiting. (The
        holder may be a reminder's turn, which does not look: this worker then looks
        again a moment later.)"""
        while not self._closed:
            if not await locks.try_hold(owner):
                for row in queue:
                    if row.update_id not in self._unsettled:
                        self._in_hand.discard(row.update_id)  # still waiting: any look
                queue.clear()
                asyncio.get_running_loop().call_later(_LOOK_AGAIN, self._wake.set)
                return
            try:
                self._replace(queue, await self.inbox.waiting_of(owner))
                while queue and not self._closed:
                    async with self._slots:
                        await self._one(queue[0])
                    done = queue.popleft().update_id
                    if done not in self._unsettled:
                        self._gone.add(done)
            finally:
                await locks.let_go(owner)
            # what another worker stored meanwhile: served after taking the lock again
            if self._closed or not await self.inbox.waiting_of(owner):
                return

    def _replace(self, queue: deque[Waiting], fresh: list[Waiting]) -> None:
        """The lane holds what the store says waits now: rows another worker answered go
        (out of hand too), rows it stored come in."""
        waiting = {row.update_id for row in fresh}
        for row in queue:
            if row.update_id not in waiting and row.update_id not in self._unsettled:
                self._gone.add(row.update_id)
        queue.clear()
        for row in fresh:
            if row.update_id in self._unsettled:
                continue  # answered here; the store is told at the next look
            self._in_hand.add(row.update_id)
            queue.append(row)

    async def _one(self, row: Waiting) -> None:
        now, started = self.clock(), time.perf_counter()
        try:
            answered = await self.handle(row)
        except Unreadable as exc:
            log.warning("update %s cannot be read (%s): set aside", row.update_id, exc)
            await self._aside(row, "unreadable", now)
            return
        except VieError as exc:  # the handler's report (it logged the details)
            log.warning("update %s failed (%s): set aside", row.update_id, exc)
            await self._aside(row, str(exc), now)
            return
        except Exception as exc:
            # where it failed, but not the exception's message: it may quote the update
            where = "".join(traceback.format_tb(exc.__traceback__))
            log.error(
                "update %s failed (%s): set aside\n%s", row.update_id, type(exc).__name__, where
            )
            await self._aside(row, type(exc).__name__, now)
            return
        if answered:
            self.metrics.update("answered", seconds=time.perf_counter() - started)
        else:
            self.metrics.update("settled")
            try:
                await self.inbox.done([row.update_id], now)
            except Exception:
                self._unsettled.append(row.update_id)

    async def _aside(self, row: Waiting, error: str, now: datetime) -> None:
        self.metrics.update("set_aside")
        try:
            await self.inbox.set_aside(row.update_id, error, now)
        except Exception:
            self._unsettled.append(row.update_id)

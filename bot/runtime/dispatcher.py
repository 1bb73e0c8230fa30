"""The durable dispatcher: claims due nudges, has them decided, and the turn that decides
stores its messages in the reply outbox and deletes the nudge, in one statement.

A claimed row is in flight under a lease. A crash before that statement leaves it in
flight, and `recover` makes it pending again once the lease is over: nothing is lost,
and nothing is sent twice (the sender delivers the outbox).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.events import NudgeDue
from bot.runtime.clock import utc_now
from bot.runtime.conversation import Conversations
from bot.runtime.metrics import Metrics
from bot.store.interfaces import NudgeOutbox

log = logging.getLogger(__name__)


class NudgeDispatcher:
    """Moves due nudges from the outbox to the people they are for."""

    def __init__(
        self,
        conversations: Conversations,
        outbox: NudgeOutbox,
        clock: Callable[[], datetime] = utc_now,
        batch: int = 100,
        lease: timedelta = timedelta(seconds=60),
        metrics: Metrics | None = None,
    ) -> None:
        self.conversations, self.outbox = conversations, outbox
        self.metrics = metrics or Metrics()
        self.clock, self.batch, self.lease = clock, batch, lease
        self._busy = asyncio.Lock()  # one drain at a time; close() waits for it
        self._recovering = asyncio.Lock()  # and for a lease recovery in progress
        # Claimed by `batch`, decided a few at a time: a batch of decisions ready at once
        # holds up the event loop, the send limiter's wake-ups with it.
        self._deciding = asyncio.Semaphore(16)
        self._closed = False

    async def drain(self) -> int:
        """Send everything due now (the scheduler's periodic job); how many were claimed.

        Up to `batch` nudges are decided at once, and more are claimed whenever half of
        them are done.
        """
        total = 0
        in_flight: set[asyncio.Task[None]] = set()
        low = self.batch // 2
        refill = asyncio.Event()

        def finished(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            if len(in_flight) <= low:
                refill.set()

        async with self._busy:
            try:
                while not self._closed:
                    room = self.batch - len(in_flight)
                    claimed = await self.outbox.claim_due(self.clock(), room, self.lease)
                    for user_id, key, due in claimed:
                        task = asyncio.create_task(self._one(user_id, key, due))
                        in_flight.add(task)
                        task.add_done_callback(finished)
                    total += len(claimed)
                    if not in_flight:
                        break
                    if len(claimed) < room:  # nothing more due for now: finish what is in hand
                        await asyncio.gather(*in_flight)
                        continue
                    refill.clear()
                    if len(in_flight) > low:
                        await refill.wait()
            finally:
                if in_flight:
                    await asyncio.gather(*in_flight)
        return total

    async def close(self) -> None:
        """Stop taking nudges and wait for the batch in hand (before the store closes)."""
        self._closed = True
        # Stopping the scheduler cancels the jobs still running: none may be left then
        # (a recovery cancelled mid-query logged a CancelledError traceback).
        async with self._busy, self._recovering:
            pass

    async def _one(self, user_id: int, key: str, due: datetime) -> None:
        try:
            async with self._deciding:
                started = time.perf_counter()
                await self.conversations.handle_due(user_id, NudgeDue(key, due), self.clock())
                self.metrics.update("done", "nudge", time.perf_counter() - started)
        except Exception:
            # Left in flight on purpose: `recover` retries it after the lease.
            log.exception("nudge %s for user %s failed; retried after its lease", key, user_id)

    async def recover(self) -> int:
        """In-flight nudges whose lease is over (a crash) become pending again."""
        async with self._recovering:
            if self._closed:
                return 0
            recovered = await self.outbox.recover_leases(self.clock())
        if recovered:
            log.warning("recovered %d nudge(s) left in flight", recovered)
        return recovered


def start_scheduler(
    dispatcher: NudgeDispatcher, tick: timedelta, housekeeping: list[Any] | None = None
) -> Any:
    """APScheduler's AsyncIOScheduler: the dispatcher every `tick`, lease recovery every
    minute, and any extra (callable, timedelta) housekeeping jobs."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    # A tick that finds the previous drain still running is skipped on purpose
    # (max_instances=1); APScheduler would log a warning for each one.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    scheduler = AsyncIOScheduler(timezone=UTC)
    now = datetime.now(UTC)
    options = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(dispatcher.recover, "interval", minutes=1, next_run_time=now, **options)
    scheduler.add_job(
        dispatcher.drain, "interval", seconds=tick.total_seconds(), next_run_time=now, **options
    )
    for job, every in housekeeping or []:
        scheduler.add_job(job, "interval", seconds=every.total_seconds(), **options)
    scheduler.start()
    return scheduler

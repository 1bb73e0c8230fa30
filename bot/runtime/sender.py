"""The sender: delivers the outbox, each chat's rows in order, and deletes each row once
the transport (Telegram) has accepted it.

- Different chats are served concurrently; one chat's rows strictly one after another
  (the mark of a chosen button goes out together with the step that follows it).
- Reminders, alerts and broadcasts take at most `background_slots` (16) sends at a time,
  so that a reply to someone who just wrote is never queued behind a batch of them (more
  slots barely add pace; fewer, and a few 429s, which hold their slot for `retry_after`,
  slowed a batch of reminders: `docs/architecture.md`).
- What became of a row is the store's to record: deleting a row Telegram accepted marks
  a broadcast's recipient sent, and a drop marks it blocked or refused
  (`bot/store/broadcasts.py`).
- When the transport is unavailable (5xx, no connection), one row probes it with growing
  pauses while every other row waits; when it answers again, all resume, in order.
  Nothing is given up because of an outage.
- A row older than `max_age` is dropped and recorded, never sent out of context; a chat
  that blocked the bot loses its rows (recorded); a row the transport refuses for good is
  dropped (recorded) and the chat goes on.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from bot.runtime.clock import utc_now
from bot.runtime.lanes import Lanes, keep_pumping
from bot.runtime.metrics import Metrics
from bot.store.interfaces import Outbox
from bot.store.queues import BACKGROUND, Queued

log = logging.getLogger(__name__)
_UNKNOWN_ERRORS = 5  # a row that fails this many times for no known reason is dropped
# Sends waiting on Telegram at once. httpx walks every connection of its pool on each
# request: with PTB's 256 it took a third of a busy sender's CPU (py-spy). 32 carry far
# more than Telegram's 30 messages a second at 100 ms a round trip, with a chat waiting
# on its own limit holding one each. The HTTP pool is sized to match (bot/app/telegram.py).
IN_FLIGHT = 32


class Outcome(enum.Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # the person blocked the bot: nothing more goes to them
    REFUSED = "refused"  # this row can never be sent (Telegram said why)
    UNAVAILABLE = "unavailable"  # try again later


class Transport(Protocol):
    """Carries one outbox row out; says what became of it (never raises for Telegram's
    known answers)."""

    async def deliver(self, row: Queued) -> Outcome: ...


class Sender:
    """Moves the outbox to the transport (see the module's docstring)."""

    def __init__(
        self,
        outbox: Outbox,
        transport: Transport,
        *,
        clock: Callable[[], datetime] = utc_now,
        max_age: timedelta = timedelta(hours=24),
        background_slots: int = 16,
        in_flight: int = IN_FLIGHT,
        on_blocked: Callable[[int], Awaitable[None]] | None = None,
        first_pause: float = 0.5,
        longest_pause: float = 10.0,
        metrics: Metrics | None = None,
        shared: bool = False,
    ) -> None:
        self.metrics = metrics or Metrics()
        self.outbox, self.transport, self.clock = outbox, transport, clock
        self.max_age = max_age
        self.on_blocked = on_blocked
        self.first_pause, self.longest_pause = first_pause, longest_pause
        self._background = asyncio.Semaphore(background_slots)
        # sends waiting on Telegram at once (see IN_FLIGHT)
        self._in_flight = asyncio.Semaphore(in_flight)
        self.lanes: Lanes[int, Queued] = Lanes(self._serve)  # by chat
        self._last_id = 0
        # Several workers write the outbox: a row may be committed after one with a higher
        # id, so each look reads every row and skips those in hand (until deleted). One
        # person's rows still commit in id order (their turns run one at a time).
        self._in_hand: set[int] | None = set() if shared else None
        # rows deleted since the last look began: kept in hand until a look that began
        # after their deletion (one that began before may still read them)
        self._gone: set[int] = set()
        self._wake = asyncio.Event()
        self._healthy = asyncio.Event()
        self._healthy.set()
        self._probe: object | None = None  # the worker probing an unavailable transport
        self._acks: list[int] = []
        self._acking: asyncio.Task[None] | None = None
        self._closed = False
        self.sent = 0  # rows accepted since start (for the logs and /healthz)
        self.last_success: datetime | None = None

    # -- what the rest of the bot calls ---------------------------------------------------
    def wake(self) -> None:
        """New rows were committed: look for them now rather than at the next tick."""
        self._wake.set()

    @property
    def backlog(self) -> int:
        """Rows read from the outbox and not yet sent."""
        return self.lanes.backlog

    @property
    def available(self) -> bool:
        """False while the transport is unavailable (an outage is being probed)."""
        return self._healthy.is_set()

    async def run(self, tick: float = 1.0) -> None:
        """Deliver until closed: woken by `wake`, else every `tick` seconds."""
        await keep_pumping(self.pump, self._wake, lambda: self._closed, tick, "outbox", log)

    async def pump(self) -> int:
        """Read the rows committed since the last look and start their chats; how many."""
        self._wake.clear()
        if self._in_hand is not None:
            gone, self._gone = self._gone, set()
            limit = len(self._in_hand) + 5000
            ids = await self.outbox.ids(limit)  # the index alone; bodies of new rows only
            self._in_hand.difference_update(gone)  # this look cannot have read them
            new = [i for i in ids if i not in self._in_hand]
            return self._pump_all(await self.outbox.rows(new), len(ids) == limit)
        found = 0
        while True:
            rows = await self.outbox.after(self._last_id)
            for row in rows:
                if row.id <= self._last_id:  # read by a look that ran at the same time
                    continue
                self.lanes.queue(row.chat_id).append(row)
                self._last_id = row.id
            found += len(rows)
            if len(rows) < 5000:
                break
        self.lanes.start()
        return found

    def _pump_all(self, rows: list[Queued], more: bool) -> int:
        assert self._in_hand is not None
        found = 0
        for row in rows:
            if row.id not in self._in_hand:
                self._in_hand.add(row.id)
                self.lanes.queue(row.chat_id).append(row)
                found += 1
        if more:
            self._wake.set()  # more than one look's worth
        self.lanes.start()
        return found

    def _settled(self, ids: list[int]) -> None:
        """Rows gone from the outbox (sent and deleted, or dropped): out of hand once
        the next look begins."""
        if self._in_hand is not None:
            self._gone.update(ids)

    async def flush(self) -> None:
        """Deliver everything committed so far (tests and the terminal's clock)."""
        await self.pump()
        await self.lanes.idle()
        if self._acking is not None:
            await self._acking

    async def close(self, grace: float = 5.0) -> None:
        """Stop: give the rows in hand `grace` seconds, then leave the rest in the outbox
        (they go out at the next start)."""
        self._closed = True
        self._wake.set()
        await self.lanes.stop(grace)
        if self._acking is not None:
            await asyncio.gather(self._acking, return_exceptions=True)
        if self._acks:
            await self.outbox.sent(self._acks)

    # -- one chat ---------------------------------------------------------------------------
    async def _serve(self, chat_id: int, queue: deque[Queued]) -> None:
        while queue and not self._closed:
            row = queue[0]
            results: list[Outcome]
            if row.kind == "mark" and len(queue) > 1:
                # the mark under the old message and the next step go out together
                results = list(await asyncio.gather(self._one(row), self._one(queue[1])))
            else:
                results = [await self._one(row)]
            if Outcome.BLOCKED in results:
                await self._blocked(chat_id, queue)
                break
            for _ in results:
                queue.popleft()

    async def _one(self, row: Queued) -> Outcome:
        if row.kind in BACKGROUND:
            async with self._background:
                return await self._until_done(row)
        return await self._until_done(row)

    async def _until_done(self, row: Queued) -> Outcome:
        """Send `row` until the transport accepts or refuses it for good."""
        pause, unknown = self.first_pause, 0
        while True:
            if self.clock() - row.created > self.max_age:
                log.warning("outbox row %s for chat %s is too old: dropped", row.id, row.chat_id)
                await self.outbox.drop([row.id], "expired", self.clock())
                self._settled([row.id])
                self.metrics.replies_failed.labels("expired").inc()
                self._release(row)
                return Outcome.REFUSED
            if self._probe is not None and self._probe is not row:
                await self._healthy.wait()
                continue
            answered = True  # by the transport (not our own failure)
            try:
                async with self._in_flight:
                    outcome = await self.transport.deliver(row)
            except Exception:
                answered = False
                # not an outage (the transport reports those): this row's own trouble
                unknown += 1
                log.exception("outbox row %s for chat %s failed", row.id, row.chat_id)
                if unknown < _UNKNOWN_ERRORS:
                    await asyncio.sleep(self.first_pause * unknown)
                    continue
                outcome = Outcome.REFUSED
            if outcome is Outcome.UNAVAILABLE:
                self.metrics.telegram_errors.inc()
                if self._probe is None:
                    log.warning("Telegram unavailable: replies wait in the outbox")
                    self._probe = row
                    self._healthy.clear()
                if self._probe is row:
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, self.longest_pause)
                continue
            self._release(row)
            if answered:
                self.metrics.telegram_answered(self.clock())
            if outcome is Outcome.SENT:
                self.sent += 1
                self.last_success = self.clock()
                self.metrics.sent(row.kind)
                if row.kind == "nudge":
                    self.metrics.nudges_sent.inc()
                self._ack(row.id)
            elif outcome is Outcome.REFUSED:
                self.metrics.replies_failed.labels("refused").inc()
                await self.outbox.drop([row.id], "refused", self.clock())
                self._settled([row.id])
            return outcome

    def _release(self, row: Queued) -> None:
        """The row is settled: if it was probing, the others may go (again)."""
        if self._probe is row:
            self._probe = None
            self._healthy.set()
            log.warning("Telegram reachable again: the outbox resumes")

    async def _blocked(self, chat_id: int, queue: deque[Queued]) -> None:
        ids = [row.id for row in queue]
        queue.clear()
        log.info("chat %s blocked the bot: %d message(s) not sent", chat_id, len(ids))
        self.metrics.replies_failed.labels("blocked").inc(len(ids))
        await self.outbox.drop(ids, "blocked", self.clock())
        self._settled(ids)
        if self.on_blocked is not None:
            await self.on_blocked(chat_id)

    def _ack(self, row_id: int) -> None:
        """Delete sent rows in batches: one commit for every row sent meanwhile."""
        self._acks.append(row_id)
        if self._acking is None or self._acking.done():
            self._acking = asyncio.create_task(self._delete_acked())

    async def _delete_acked(self) -> None:
        while self._acks:
            batch, self._acks = self._acks, []
            try:
                await self.outbox.sent(batch)
                self._settled(batch)
            except Exception:
                # sent but still stored: sent again after a restart (at-least-once)
                log.exception("could not delete %d sent outbox row(s)", len(batch))

"""The embedded SQLite store (aiosqlite, WAL, versioned migrations).

One connection, used by one process. Three things keep it fast without giving up safety:
- a processed event is saved by ONE statement (`INSERT INTO turns`, see the migrations),
  its replies and the update it answers included;
- writes that arrive together (turns, inbox batches, sent replies) are committed together
  (group commit), and each caller returns only once its own rows are committed;
- states are cached write-through, because this process is the only writer. (A store for
  many workers, e.g. PostgreSQL, would not cache.)
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite

from bot.core.events import Effect
from bot.core.state import UserState, evolve
from bot.store.advocates import AdvocateQueries
from bot.store.broadcasts import BroadcastQueries
from bot.store.lock import InstanceLock, ProcessLocks
from bot.store.queues import (
    NO_DELIVERY,
    Delivery,
    SqlInbox,
    SqlOutbox,
    Statement,
    from_ms,
    to_ms,
)
from bot.store.rows import (
    INSERT_TURN,
    LOAD,
    forget_statements,
    in_column_order,
    prune_statements,
    state_from,
    turn_row,
)
from bot.store.shared import SharedQueries
from bot.store.versions import DialogVersions

log = logging.getLogger(__name__)


class SqliteStore(SharedQueries):
    """`Store` on a SQLite file."""

    dialect = "sqlite"

    def __init__(
        self,
        db: aiosqlite.Connection,
        path: str,
        cache_size: int = 10_000,
        keep_unknown: timedelta = timedelta(days=30),
    ) -> None:
        self._db = db
        self.path = path
        self.keep_unknown = keep_unknown  # how long texts not understood are kept
        self._lock = asyncio.Lock()  # statements of one transaction never interleave
        self._cache: OrderedDict[int, UserState | None] = OrderedDict()
        self._cache_size = cache_size
        self._pending: list[tuple[tuple[Statement, ...], asyncio.Future[int]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.advocates = AdvocateQueries(self.fetch_all)
        self.inbox = SqlInbox(self)
        self.outbox = SqlOutbox(self)
        self.versions = DialogVersions(self.fetch_all, self.write)
        self.broadcasts = BroadcastQueries(self)  # /broadcast: drafts, jobs, recipients
        self.instance_lock: InstanceLock | None = None  # set by open_store
        self.locks = ProcessLocks()  # one process serves the file: everything is its own
        self._wal_to_purge = False

    @property
    def connection(self) -> aiosqlite.Connection:
        return self._db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def fetch_all(self, query: str, args: Sequence[Any] = ()) -> list[Any]:
        """Every row of one read query, between the store's own statements."""
        async with self._lock, self._db.execute(query, args) as cur:
            return list(await cur.fetchall())

    async def fetch_named(self, query: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The same, each row a mapping of column name to value."""
        async with self._lock, self._db.execute(query, args) as cur:
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in await cur.fetchall()]

    # -- cache ---------------------------------------------------------------------------
    def _remember(self, user_id: int, state: UserState | None) -> None:
        self._cache[user_id] = state
        self._cache.move_to_end(user_id)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    # -- the Store protocol ---------------------------------------------------------------
    async def load(self, user_id: int) -> UserState | None:
        if user_id in self._cache:
            self._cache.move_to_end(user_id)
            return self._cache[user_id]
        async with self._lock, self._db.execute(LOAD, (user_id,)) as cur:
            row = await cur.fetchone()
            names = [d[0] for d in cur.description]
        state = None if row is None else state_from(user_id, dict(zip(names, row, strict=True)))
        self._remember(user_id, state)
        return state

    async def save(
        self,
        before: UserState | None,
        after: UserState,
        effects: Sequence[Effect],
        milestone_stage: Mapping[str, str],
        delivery: Delivery = NO_DELIVERY,
    ) -> None:
        row = in_column_order(turn_row(before, after, effects, milestone_stage, delivery))
        try:
            await self.write((INSERT_TURN, [row]))
        except BaseException:
            self._cache.pop(after.user_id, None)  # the cache must not hold what was not stored
            raise
        self._remember(after.user_id, after)

    async def write(self, *statements: Statement) -> int:
        """Run `statements` in one transaction, committed together with the writes that
        arrive meanwhile; how many rows they changed. Returns once they are committed."""
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((statements, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await done

    async def _run(self, statements: tuple[Statement, ...]) -> int:
        # The cursors are not closed explicitly: each close is one more round trip to the
        # database thread (a turn's save costs one), and sqlite3 closes them when dropped.
        changed = 0
        for sql, rows in statements:
            if len(rows) == 1:
                cur = await self._db.execute(sql, rows[0])
            elif rows:
                cur = await self._db.executemany(sql, rows)
            else:
                continue
            changed += max(cur.rowcount, 0)
        return changed

    async def _flush(self) -> None:
        """Commit every waiting write; those that arrive meanwhile form the next batch."""
        while self._pending:
            batch, self._pending = self._pending, []
            counts: list[int] = []
            try:
                alone = len(batch) == 1 and len(batch[0][0]) == 1 and len(batch[0][0][0][1]) == 1
                if alone:  # one statement is its own transaction
                    async with self._lock:
                        counts.append(await self._run(batch[0][0]))
                else:
                    async with self.transaction():
                        counts = await self._run_batch(batch)
            except Exception as exc:
                if len(batch) == 1:
                    if not batch[0][1].done():
                        batch[0][1].set_exception(exc)
                    continue
                await self._one_by_one(batch)  # one bad write must not fail the others
                continue
            for (_, done), count in zip(batch, counts, strict=True):
                if not done.done():
                    done.set_result(count)

    async def _run_batch(
        self, batch: list[tuple[tuple[Statement, ...], asyncio.Future[int]]]
    ) -> list[int]:
        """Every write of a batch; the turns among them by one `executemany` (one round
        trip to the database thread for all of them, not one each: the harness went from
        about 1,500 back to 1,950 events/s). Moving the turns to the end is safe: the
        writes of one batch are independent, each caller awaiting its commit before its
        next write."""
        counts: list[int] = []
        turns: list[Any] = []
        for statements, _ in batch:
            if len(statements) == 1 and statements[0][0] == INSERT_TURN:
                turns.extend(statements[0][1])
                counts.append(1)
            else:
                counts.append(await self._run(statements))
        if turns:
            await self._db.executemany(INSERT_TURN, turns)
        return counts

    async def _one_by_one(
        self, batch: list[tuple[tuple[Statement, ...], asyncio.Future[int]]]
    ) -> None:
        """Commit each write of a failed batch on its own: only the bad one fails."""
        for statements, done in batch:
            try:
                async with self.transaction():
                    count = await self._run(statements)
            except Exception as exc:
                if not done.done():
                    done.set_exception(exc)
            else:
                if not done.done():
                    done.set_result(count)

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        """Record that the person blocked (or unblocked) the bot."""
        async with self._lock:
            await self._db.execute(
                "UPDATE users SET blocked = ? WHERE user_id = ?", (int(blocked), user_id)
            )
        cached = self._cache.get(user_id)
        if cached is not None:
            self._cache[user_id] = evolve(cached, blocked=blocked)

    async def tell_group_once(self, chat_id: int, now: datetime) -> bool:
        """True the first time for a group chat, False ever after."""
        async with (
            self._lock,
            self._db.execute(
                "INSERT OR IGNORE INTO group_chats VALUES (?, ?)", (chat_id, now.isoformat())
            ) as cur,
        ):
            return cur.rowcount == 1

    async def prune(self, now: datetime, keep: timedelta = timedelta(days=2)) -> int:
        """Old rows out (`rows.prune_statements`); how many went."""
        pruned = await self.write(*prune_statements(now, keep, self.keep_unknown))
        if self._wal_to_purge:  # an erasure whose WAL could not be emptied then
            await self._purge_wal()
        return pruned

    # -- the nudge outbox ---------------------------------------------------------------
    async def claim_due(
        self, now: datetime, limit: int, lease: timedelta
    ) -> list[tuple[int, str, datetime]]:
        """Mark up to `limit` due nudges in flight (earliest first) and return them.

        A row whose lease has run out (a crash) is claimable again, like a pending one."""
        now_ms = to_ms(now)
        query = """UPDATE nudges SET lease_ms = ?, attempts = attempts + 1
                   WHERE (due_ms, user_id, key) IN (
                       SELECT due_ms, user_id, key FROM nudges
                       WHERE due_ms <= ? AND lease_ms <= ? ORDER BY due_ms LIMIT ?)
                   RETURNING user_id, key, due_ms"""
        until = now_ms + round(lease.total_seconds() * 1000)
        async with self._lock, self._db.execute(query, (until, now_ms, now_ms, limit)) as cur:
            rows = await cur.fetchall()
        return sorted((int(r[0]), str(r[1]), from_ms(r[2])) for r in rows)

    async def recover_leases(self, now: datetime) -> int:
        """Nudges left in flight past their lease (a crash) become pending again.

        `claim_due` already takes such rows back; this counts them for the logs."""
        query = "UPDATE nudges SET lease_ms = 0 WHERE lease_ms > 0 AND lease_ms < ?"
        async with self._lock, self._db.execute(query, (to_ms(now),)) as cur:
            return cur.rowcount

    async def next_due(self) -> datetime | None:
        """When the earliest pending nudge is due (None if there is none)."""
        query = "SELECT due_ms FROM nudges WHERE lease_ms = 0 ORDER BY due_ms LIMIT 1"
        async with self._lock, self._db.execute(query) as cur:
            row = await cur.fetchone()
        return None if row is None else from_ms(row[0])

    async def forget(self, user_id: int, delivery: Delivery = NO_DELIVERY) -> None:
        """Erase the person, with their waiting updates and unsent replies; then queue the
        turn's replies (the confirmation) and keep the id of the update it answered."""
        await self.write(*forget_statements(user_id, delivery, to_ms(datetime.now(UTC))))
        self._remember(user_id, None)
        await self._purge_wal()

    async def _purge_wal(self) -> None:
        """Copy the WAL into the database and empty it, so that the erased rows (zeroed
        there by secure_delete) are not still readable in the WAL file."""
        async with self._lock, self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
            row = await cur.fetchone()
        # SQLite's own checkpoints never empty the WAL: if a reader held it, try again at
        # the next prune (hourly)
        self._wal_to_purge = bool(row is not None and row[0])
        if self._wal_to_purge:
            log.warning("%s: the WAL could not be emptied after an erasure (busy): "
                        "tried again within the hour", self.path)  # fmt: skip

    async def close(self) -> None:
        try:
            if self._flusher is not None:
                await asyncio.gather(self._flusher, return_exceptions=True)
            await self._db.close()
        finally:
            if self.instance_lock is not None:
                self.instance_lock.release()
                self.instance_lock = None

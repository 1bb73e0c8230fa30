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
import json
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
from bot.store.interfaces import Backlog
from bot.store.lock import InstanceLock
from bot.store.queues import (
    NO_DELIVERY,
    Delivery,
    SqlInbox,
    SqlOutbox,
    Statement,
    from_ms,
    to_ms,
)
from bot.store.rows import INSERT_TURN, LOAD, in_column_order, state_from, turn_row
from bot.store.versions import DialogVersions

log = logging.getLogger(__name__)

# Tables holding rows about one person and the column naming them, exported by /mydata
# (all cascade from users): the core's, then the features' (a test compares these with
# what the features declare).
USER_TABLES = {
    "users": "user_id",
    "conversations": "user_id",
    "milestones": "user_id",
    "stages_completed": "user_id",
    "events": "user_id",
    "inbox": "owner",
    "outbox": "chat_id",
    "nudges": "user_id",
    "referrals": "friend_id",
    "invites": "advocate_id",
    "advocates": "user_id",
    "alerts": "advocate_id",
    "unknown_texts": "user_id",
    "exposures": "user_id",  # A/B variants shown (migration 0007)
    "broadcast_drafts": "admin_id",
    "broadcast_recipients": "user_id",
}


class SqliteStore:
    """`Store` on a SQLite file."""

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
        """Drop the ids of updates processed longer than `keep` ago (Telegram redelivers
        for a day), and texts not understood and updates set aside older than
        `keep_unknown`; how many rows went."""
        old = to_ms(now - self.keep_unknown)
        pruned = await self.write(
            ("DELETE FROM inbox WHERE done_ms < ?", [(to_ms(now - keep),)]),
            ("DELETE FROM unknown_texts WHERE at_ms < ?", [(old,)]),
            ("DELETE FROM poison_updates WHERE at_ms < ?", [(old,)]),
        )
        if self._wal_to_purge:  # an erasure whose WAL could not be emptied then
            await self._purge_wal()
        return pruned

    async def unknown_texts(
        self, since: datetime, limit: int = 50
    ) -> list[tuple[str, str, str, int]]:
        """The texts not understood since then, most frequent first: (node, language, one
        way it was written, how many times), never who wrote them."""
        query = """SELECT node, lang, min(text), count(*) AS n FROM unknown_texts
                   WHERE at_ms >= ? GROUP BY node, lang, text_key
                   ORDER BY n DESC, node, min(text) LIMIT ?"""
        rows = await self.fetch_all(query, (to_ms(since), limit))
        return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

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
        # Every table of the conversation refers to users ON DELETE CASCADE; the delivery
        # queues name the chat without a foreign key (a reply outlives nothing else).
        ms = to_ms(datetime.now(UTC))
        statements: list[Statement] = [
            ("DELETE FROM users WHERE user_id = ?", [(user_id,)]),
            ("DELETE FROM inbox WHERE owner = ?", [(user_id,)]),
            ("DELETE FROM outbox WHERE chat_id = ?", [(user_id,)]),
        ]
        if delivery.update_id is not None:
            statements.append((
                "INSERT OR REPLACE INTO inbox (update_id, owner, body, received_ms, done_ms) "
                "VALUES (?, NULL, NULL, ?, ?)", [(delivery.update_id, ms, ms)],
            ))  # fmt: skip
        if delivery.outgoing:
            statements.append((
                "INSERT INTO outbox (chat_id, kind, body, created_ms) VALUES (?, ?, ?, ?)",
                [(o.chat_id, o.kind, json.dumps(o.body, ensure_ascii=False), ms)
                 for o in delivery.outgoing],
            ))  # fmt: skip
        await self.write(*statements)
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

    async def export(self, user_id: int) -> dict[str, Any]:
        """Everything about the person, and no one else's id: the advocate who invited
        them by first name only (`invited_by`), the friends an alert is about not at all."""
        out: dict[str, Any] = {}
        async with self._lock:
            for table, column in USER_TABLES.items():
                named = ""
                if table == "referrals":
                    named = ", (SELECT first_name FROM users WHERE user_id = t.advocate_id) AS _by"
                async with self._db.execute(
                    f"SELECT t.*{named} FROM {table} t WHERE t.{column} = ?", (user_id,)
                ) as cur:
                    names = [d[0] for d in cur.description]
                    rows = [dict(zip(names, r, strict=True)) for r in await cur.fetchall()]
                for row in rows:
                    row.pop(column, None)
                    row.pop("path", None)  # the advocates above: other people's ids
                    row.pop("advocate_id", None)  # after `column`: someone else's id
                    row.pop("friend_id", None)
                    if table == "referrals":
                        by = row.pop("_by", None)
                        row["invited_by"] = {"first_name": by} if by else None
                    for key in ("data", "vars", "body"):
                        if row.get(key) is not None:
                            row[key] = json.loads(row[key])
                out[table] = rows
        return out

    async def backlog(self) -> Backlog:
        """What waits: one read of a few counts (each on an index)."""
        (row,) = await self.fetch_all(
            "SELECT (SELECT count(*) FROM inbox WHERE done_ms IS NULL), "
            "(SELECT count(*) FROM outbox), (SELECT min(created_ms) FROM outbox), "
            "(SELECT count(*) FROM nudges)"
        )
        oldest = None if row[2] is None else from_ms(int(row[2]))
        return Backlog(int(row[0]), int(row[1]), oldest, int(row[3]))

    async def close(self) -> None:
        try:
            if self._flusher is not None:
                await asyncio.gather(self._flusher, return_exceptions=True)
            await self._db.close()
        finally:
            if self.instance_lock is not None:
                self.instance_lock.release()
                self.instance_lock = None

"""The PostgreSQL store, for several workers on one database (psycopg 3, a pool).

The same tables, triggers and statements as the SQLite store (`bot/store/pg_migrations`),
so that a turn is still ONE statement (`INSERT INTO turns`). What differs, and why:
- nothing is cached: another worker may have changed the person since (the SQLite store
  caches because its process is the only writer);
- writes that arrive together are committed together, as on SQLite, on one connection
  of the pool at a time per process; other workers commit theirs in parallel, and a
  deadlock or serialisation failure between two of them is retried;
- due nudges are claimed with `FOR UPDATE SKIP LOCKED`: two workers never take one row.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Generator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from bot.core.events import Effect
from bot.core.state import UserState
from bot.store.advocates import AdvocateQueries
from bot.store.broadcasts import BroadcastQueries
from bot.store.pg_locks import PgLocks
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
    LOAD_PG,
    TURN_COLUMNS,
    forget_statements,
    in_column_order,
    prune_statements,
    state_from,
    turn_row,
)
from bot.store.shared import SharedQueries
from bot.store.versions import DialogVersions

log = logging.getLogger(__name__)

# Two workers' batches may lock the same counter rows in another order: PostgreSQL then
# aborts one of them, which is run again (each of its callers still waits for it).
_RETRIED = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)
_RETRIES = 5
_PLACEHOLDER = re.compile(r"\?")
_translated: dict[str, str] = {}


def pg_sql(query: str) -> str:
    """The store's SQL (`?` placeholders, as SQLite) in psycopg's spelling (`%s`)."""
    found = _translated.get(query)
    if found is None:
        found = _PLACEHOLDER.sub("%s", query.replace("%", "%%"))
        if len(_translated) < 4096:  # the statements are constants; a bound keeps it so
            _translated[query] = found
    return found


_CREATED_AT = TURN_COLUMNS.index("created_at")


def _cohort_day(write: tuple[Statement, ...]) -> str:
    """'' for any write but one turn's (first), else the person's first day."""
    if len(write) == 1 and write[0][0] == INSERT_TURN and len(write[0][1]) == 1:
        return "~" + str(write[0][1][0][_CREATED_AT])[:10]
    return ""


def _fills_outbox(sql: str) -> bool:
    return sql == INSERT_TURN or sql.startswith("INSERT INTO outbox")


class PgCursor:
    """A finished statement's rows, read like an aiosqlite cursor."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    async def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> list[Any]:
        return list(self._rows)


class _Execution:
    """`await db.execute(...)` or `async with db.execute(...) as cur`, as aiosqlite."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], query: str, args: Sequence[Any]):
        self._conn, self._query, self._args = conn, query, args

    async def _run(self) -> PgCursor:
        async with self._conn.cursor() as cur:
            await cur.execute(pg_sql(self._query), tuple(self._args))
            rows = await cur.fetchall() if cur.description is not None else []
            return PgCursor(rows, cur.rowcount)

    def __await__(self) -> Generator[Any, None, PgCursor]:
        return self._run().__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        return None


class PgConnection:
    """One transaction's connection, offered to the queries that read inside it."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._conn = conn

    def execute(self, query: str, args: Sequence[Any] = ()) -> _Execution:
        return _Execution(self._conn, query, args)


class PgStore(SharedQueries):
    """`Store` on a PostgreSQL database, shared by any number of workers."""

    dialect = "postgresql"

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        locks: PgLocks,
        url: str,
        shown: str,
        keep_unknown: timedelta,
    ) -> None:
        self._pool = pool
        self._url = url
        self.path = shown  # the server and database, never the password
        self.keep_unknown = keep_unknown
        self._pending: list[tuple[tuple[Statement, ...], asyncio.Future[int]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.advocates = AdvocateQueries(self.fetch_all, dialect=self.dialect)
        self.inbox = SqlInbox(self)
        self.outbox = SqlOutbox(self)
        self.versions = DialogVersions(self.fetch_all, self.write, dialect=self.dialect)
        self.broadcasts = BroadcastQueries(self)
        self.instance_lock = None  # no file to lock: workers share the database
        self.locks = locks  # each person's turns, the sender's and the poller's roles

    # -- reads and transactions -----------------------------------------------------------
    async def fetch_all(self, query: str, args: Sequence[Any] = ()) -> list[Any]:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(pg_sql(query), tuple(args))
            return list(await cur.fetchall())

    async def fetch_named(self, query: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(pg_sql(query), tuple(args))
            return list(await cur.fetchall())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgConnection]:
        """BEGIN … COMMIT on a connection of the pool, rolled back on any error."""
        async with self._pool.connection() as conn, conn.transaction():
            yield PgConnection(conn)

    # -- the Store protocol ---------------------------------------------------------------
    async def load(self, user_id: int) -> UserState | None:
        rows = await self.fetch_named(LOAD_PG, (user_id,))
        return state_from(user_id, rows[0]) if rows else None

    async def save(
        self,
        before: UserState | None,
        after: UserState,
        effects: Sequence[Effect],
        milestone_stage: Mapping[str, str],
        delivery: Delivery = NO_DELIVERY,
    ) -> None:
        row = in_column_order(turn_row(before, after, effects, milestone_stage, delivery))
        await self.write((INSERT_TURN, [row]))

    async def write(self, *statements: Statement) -> int:
        """Run `statements` in one transaction, committed together with the writes that
        arrive meanwhile; how many rows they changed. Returns once they are committed."""
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((statements, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await done

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                counts = await self._commit([s for s, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    if not batch[0][1].done():
                        batch[0][1].set_exception(exc)
                    continue
                for statements, done in batch:  # one bad write must not fail the others
                    try:
                        (count,) = await self._commit([statements])
                    except Exception as alone:
                        if not done.done():
                            done.set_exception(alone)
                    else:
                        if not done.done():
                            done.set_result(count)
                continue
            for (_, done), count in zip(batch, counts, strict=True):
                if not done.done():
                    done.set_result(count)

    async def _commit(self, writes: list[tuple[Statement, ...]]) -> list[int]:
        """The writes in one transaction; run again when another worker's transaction
        deadlocked with it (nothing of an aborted transaction is kept).

        The turns go last, in the order of their people's first day: each turn locks its
        cohort day's counters (the schema's `save_turn`), and two workers' batches taking
        those locks in one order cannot deadlock on them. The writes of a batch are
        independent (each caller awaits its commit before its next write), so moving them
        changes nothing else."""
        turns = sorted(
            (i for i, w in enumerate(writes) if _cohort_day(w)),
            key=lambda i: _cohort_day(writes[i]),
        )
        others = [i for i, w in enumerate(writes) if not _cohort_day(w)]
        for attempt in range(_RETRIES):
            try:
                async with self._pool.connection() as conn, conn.transaction():
                    counts = [0] * len(writes)
                    for i in others:
                        counts[i] = await self._run(conn, writes[i])
                    if turns:  # one pipelined executemany: one round trip for all of them
                        rows = [writes[i][0][1][0] for i in turns]
                        await self._run(conn, ((INSERT_TURN, rows),))
                        for i in turns:
                            counts[i] = 1
                    if any(_fills_outbox(sql) for s in writes for sql, _ in s):
                        # the sending worker listens: delivered at commit, once per
                        # transaction however many rows it holds
                        await conn.execute("NOTIFY vie_outbox")
                    return counts
            except _RETRIED:
                if attempt == _RETRIES - 1:
                    raise
                log.info("store: a write met another worker's, tried again")
                await asyncio.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    @staticmethod
    async def _run(conn: psycopg.AsyncConnection[Any], statements: tuple[Statement, ...]) -> int:
        changed = 0
        async with conn.cursor() as cur:
            for sql, rows in statements:
                if len(rows) == 1:
                    await cur.execute(pg_sql(sql), tuple(rows[0]))
                elif rows:
                    await cur.executemany(pg_sql(sql), [tuple(r) for r in rows])
                else:
                    continue
                changed += max(cur.rowcount, 0)
        return changed

    def listen(
        self, channel: str, wake: Callable[[], None], heard: Callable[[str], None] | None = None
    ) -> asyncio.Task[None]:
        """Call `wake` at each notification on `channel` and after each (re)connection,
        when some may have been missed; or `heard` with each notification's payload, and
        nothing on connecting. Until the task is cancelled."""
        return asyncio.create_task(self._listen(channel, wake, heard), name=f"listen-{channel}")

    async def notify(self, channel: str, payload: str) -> None:
        """Tell every worker listening on `channel`."""
        await self.write(("SELECT pg_notify(?, ?)", [(channel, payload)]))

    async def _listen(
        self, channel: str, wake: Callable[[], None], heard: Callable[[str], None] | None
    ) -> None:
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {channel}")
                    if heard is None:
                        wake()
                    async for notice in conn.notifies():
                        if heard is None:
                            wake()
                        else:
                            heard(notice.payload)
            except psycopg.Error as exc:
                log.warning("store: listening for %s failed (%s); again in 1 s",
                            channel, type(exc).__name__)  # fmt: skip
                await asyncio.sleep(1.0)

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        await self.write(
            ("UPDATE users SET blocked = ? WHERE user_id = ?", [(int(blocked), user_id)])
        )

    async def tell_group_once(self, chat_id: int, now: datetime) -> bool:
        told = await self.write((
            "INSERT INTO group_chats (chat_id, told_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(chat_id, now.isoformat())],
        ))  # fmt: skip
        return told == 1

    async def prune(self, now: datetime, keep: timedelta = timedelta(days=2)) -> int:
        """As the SQLite store's; PostgreSQL's autovacuum then reclaims the rows."""
        return await self.write(*prune_statements(now, keep, self.keep_unknown))

    # -- the nudge outbox, shared by the workers -------------------------------------------
    async def claim_due(
        self, now: datetime, limit: int, lease: timedelta
    ) -> list[tuple[int, str, datetime]]:
        """Up to `limit` due nudges, in flight until `now + lease`; rows another worker
        is claiming at this instant are skipped, not waited for."""
        now_ms = to_ms(now)
        query = """UPDATE nudges SET lease_ms = ?, attempts = attempts + 1
                   WHERE (due_ms, user_id, key) IN (
                       SELECT due_ms, user_id, key FROM nudges
                       WHERE due_ms <= ? AND lease_ms <= ? ORDER BY due_ms LIMIT ?
                       FOR UPDATE SKIP LOCKED)
                   RETURNING user_id, key, due_ms"""
        until = now_ms + round(lease.total_seconds() * 1000)
        async with (
            self.transaction() as db,
            db.execute(query, (until, now_ms, now_ms, limit)) as cur,
        ):
            rows = await cur.fetchall()
        return sorted((int(r[0]), str(r[1]), from_ms(r[2])) for r in rows)

    async def recover_leases(self, now: datetime) -> int:
        query = "UPDATE nudges SET lease_ms = 0 WHERE lease_ms > 0 AND lease_ms < ?"
        return await self.write((query, [(to_ms(now),)]))

    async def next_due(self) -> datetime | None:
        rows = await self.fetch_all(
            "SELECT due_ms FROM nudges WHERE lease_ms = 0 ORDER BY due_ms LIMIT 1"
        )
        return from_ms(rows[0][0]) if rows else None

    async def forget(self, user_id: int, delivery: Delivery = NO_DELIVERY) -> None:
        """Erase the person (the cascade), then store the erasing turn's delivery.
        PostgreSQL keeps dead rows until vacuumed: docs/scaling.md says what to run."""
        await self.write(*forget_statements(user_id, delivery, to_ms(datetime.now(UTC))))

    async def close(self) -> None:
        try:
            if self._flusher is not None:
                await asyncio.gather(self._flusher, return_exceptions=True)
        finally:
            await self._pool.close()
            await self.locks.close()  # its locks go with its session

"""Locks that several workers on one PostgreSQL database share: session advisory locks
on one connection of each worker's own.

- a person's lock (the bigint form, the key is their Telegram id): their turns, from any
  worker, run one at a time, and a worker serves a person's updates in order only while
  it holds it (bot/runtime/inbox.py);
- a role's lock (the two-integer form, a key space of its own): one worker at a time
  sends (the send limits are then one process's), and one polls `getUpdates`.

The server drops a session's locks when its connection ends, however the process ended
(kill -9 included): another worker takes a role over at its next try, within a second,
and nobody needs to clean up. A lock taken twice on one session is held twice: two
coroutines of one worker never take the same person's lock at once, since the
conversation's own asyncio lock is taken first.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg

from bot.errors import StoreError

log = logging.getLogger(__name__)

ROLES = {"sender": 1, "poller": 2}  # the second key of each role's lock
_ROLE_SPACE = 0x564945  # the first key of every role's lock ("VIE")
_FIRST_WAIT, _LONGEST_WAIT = 0.002, 0.1  # seconds between tries for a busy person


class PgLocks:
    """One worker's advisory locks (see the module's docstring)."""

    def __init__(self, url: str, shown: str) -> None:
        self._url, self._shown = url, shown
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._guard = asyncio.Lock()  # one statement at a time on the connection
        self.generation = 0  # +1 each time the session was lost: every lock went with it
        # people whose lock this session holds, and how many times: taking one again
        # (a turn inside the run of updates that holds it) asks nothing of the server
        self._held: dict[int, int] = {}
        self._taken_in: dict[int, int] = {}  # the session (generation) each was taken in
        self._taking: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    async def _session(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self.generation += 1
                log.warning("store: the lock session was lost; every lock is taken again")
            try:
                self._conn = await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, connect_timeout=10
                )
            except psycopg.Error as exc:
                raise StoreError(
                    f"{self._shown}: cannot connect for locks ({type(exc).__name__})"
                ) from None
        return self._conn

    async def _ask(self, query: str, args: tuple[int, ...]) -> bool:
        async with self._guard:
            conn = await self._session()
            try:
                row = await (await conn.execute(query, args)).fetchone()
            except psycopg.Error as exc:
                raise StoreError(f"{self._shown}: a lock failed ({exc.sqlstate})") from None
        return bool(row and row[0])

    async def try_person(self, user_id: int) -> bool:
        return await self._ask("SELECT pg_try_advisory_lock(%s::bigint)", (user_id,))

    async def release_person(self, user_id: int) -> None:
        await self._ask("SELECT pg_advisory_unlock(%s::bigint)", (user_id,))

    async def try_hold(self, user_id: int) -> bool:
        """Take the person's lock if no other worker holds it (at once if this worker
        does: counted); False, without waiting, if another does."""
        taking = self._taking.get(user_id)
        if taking is None:  # one coroutine of this worker asks the server at a time
            taking = self._taking[user_id] = asyncio.Lock()
        async with taking:
            if not self._held.get(user_id):
                if not await self.try_person(user_id):
                    return False
                self._taken_in[user_id] = self.generation
            self._held[user_id] = self._held.get(user_id, 0) + 1
            return True

    async def let_go(self, user_id: int) -> None:
        """One hold fewer; the last lets the server's lock go."""
        self._held[user_id] -= 1
        if not self._held[user_id]:
            del self._held[user_id]
            # a lock taken before the session was lost went with it
            if self._taken_in.pop(user_id, None) == self.generation:
                await self.release_person(user_id)

    @asynccontextmanager
    async def person(self, user_id: int) -> AsyncIterator[None]:
        """Held while one of the person's turns runs, waiting while another worker's does.
        Taken again within this worker (a reminder's turn during a run of updates that
        holds it), it is counted here, and let go on the server by the last to leave."""
        wait = _FIRST_WAIT
        while not await self.try_hold(user_id):
            await asyncio.sleep(wait)
            wait = min(wait * 2, _LONGEST_WAIT)
        try:
            yield
        finally:
            await self.let_go(user_id)

    async def try_role(self, role: str) -> bool:
        return await self._ask("SELECT pg_try_advisory_lock(%s, %s)", (_ROLE_SPACE, ROLES[role]))

    async def release_role(self, role: str) -> None:
        await self._ask("SELECT pg_advisory_unlock(%s, %s)", (_ROLE_SPACE, ROLES[role]))

    async def alive(self) -> bool:
        """Whether the session (and so every lock it holds) is still there."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            return False
        async with self._guard:
            try:
                await self._conn.execute("SELECT 1")
            except psycopg.Error:
                return False
        return True

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

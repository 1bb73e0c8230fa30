"""/broadcast in the store (SQLite migration 0008, the same tables in PostgreSQL): operators' drafts, the jobs and their
recipients, and the moves of recipients into the outbox.

A job and its recipients are written in one transaction: who it reaches is decided at
the confirmation (opted in: `users.reminders = 1`; not blocked: `users.blocked = 0`; the
erased are no longer in `users`). A recipient goes from `waiting` to `queued` in the same
transaction as its outbox row, so that it is put there exactly once; what became of the
row then says what became of the recipient (the trigger `broadcast_delivered` for a row
Telegram accepted, `SqlOutbox.drop` for one blocked or refused).
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.features.operators.records import (
    Control,
    Controlled,
    Draft,
    JobStatus,
    Reach,
    Started,
)
from bot.store.queues import BACKGROUND, Database, from_ms, to_ms

KIND = "broadcast"  # the outbox rows of a broadcast (a background kind)
_JOB = "SELECT id, state, per_second, created_ms, finished_ms FROM broadcasts"
_ACTIVE = "state IN ('running', 'paused')"
# As the partial index `outbox_background` says it (the same words: SQLite then uses it).
_BACKGROUND = "kind IN ('nudge', 'broadcast')"
assert {"nudge", KIND} == BACKGROUND


class Cursor(Protocol):
    """The rows of one statement run in a transaction (aiosqlite's cursor, or the PG
    store's)."""

    @property
    def rowcount(self) -> int: ...

    async def fetchone(self) -> Any: ...

    async def fetchall(self) -> Iterable[Any]: ...


class Execution(Protocol):
    """A statement being run: awaited, or entered for its cursor."""

    def __await__(self) -> Generator[Any, None, Cursor]: ...

    async def __aenter__(self) -> Cursor: ...

    async def __aexit__(self, kind: Any, error: Any, trace: Any, /) -> Any: ...


class Connection(Protocol):
    """The connection a transaction runs its statements on."""

    def execute(self, sql: str, args: Sequence[Any], /) -> Execution: ...


class BroadcastDatabase(Database, Protocol):
    """The store's database, with a transaction of several statements that read too."""

    def transaction(self) -> AbstractAsyncContextManager[Connection]: ...


@dataclass(frozen=True, slots=True)
class RunningJob:
    id: int
    texts: Mapping[str, str]
    default_lang: str


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone waiting for a job's message, as they are now."""

    user_id: int
    first_name: str
    lang: str
    reachable: bool  # still opted in and not blocked


class BroadcastQueries:
    """Everything /broadcast reads and writes (the feature's `BroadcastReads` too)."""

    def __init__(self, db: BroadcastDatabase) -> None:
        self._db = db

    # -- drafts ---------------------------------------------------------------------------
    async def draft(self, admin_id: int) -> Draft | None:
        rows = await self._db.fetch_all(
            "SELECT texts FROM broadcast_drafts WHERE admin_id = ?", (admin_id,)
        )
        return Draft(json.loads(rows[0][0])) if rows else None

    async def save_draft(self, admin_id: int, texts: Mapping[str, str], now: datetime) -> None:
        sql = """INSERT INTO broadcast_drafts (admin_id, texts, updated_ms)
                 SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE user_id = ?)
                 ON CONFLICT (admin_id) DO UPDATE SET
                     texts = excluded.texts, updated_ms = excluded.updated_ms"""
        data = json.dumps(dict(texts), ensure_ascii=False)
        await self._db.write((sql, [(admin_id, data, to_ms(now), admin_id)]))

    async def drop_draft(self, admin_id: int) -> None:
        await self._db.write(("DELETE FROM broadcast_drafts WHERE admin_id = ?", [(admin_id,)]))

    # -- who, and how it goes ------------------------------------------------------------------
    async def reach(self) -> Reach:
        rows = await self._db.fetch_all(
            "SELECT lang, count(*) FROM users WHERE reminders = 1 AND blocked = 0 GROUP BY lang"
        )
        by_language = {str(lang): int(n) for lang, n in rows}
        return Reach(sum(by_language.values()), by_language)

    async def status(self) -> JobStatus | None:
        """The active job, else the last one."""
        rows = await self._db.fetch_all(f"{_JOB} ORDER BY {_ACTIVE} DESC, id DESC LIMIT 1")
        return await self._status(rows[0]) if rows else None

    async def job(self, job_id: int) -> JobStatus | None:
        rows = await self._db.fetch_all(f"{_JOB} WHERE id = ?", (job_id,))
        return await self._status(rows[0]) if rows else None

    async def _status(self, row: Sequence[Any]) -> JobStatus:
        job_id = int(row[0])
        counts = dict.fromkeys(("waiting", "queued", "sent", "blocked", "refused", "skipped"), 0)
        # the triggers' counters (migration 0012): a few rows, however many it reaches
        for state, n in await self._db.fetch_all(
            "SELECT state, n FROM broadcast_counts WHERE broadcast_id = ?", (job_id,)
        ):
            counts[str(state)] = int(n)
        return JobStatus(
            id=job_id, state=str(row[1]), total=sum(counts.values()), sent=counts["sent"],
            waiting=counts["waiting"] + counts["queued"], blocked=counts["blocked"],
            refused=counts["refused"], skipped=counts["skipped"], per_second=float(row[2]),
            created=from_ms(row[3]), finished=None if row[4] is None else from_ms(row[4]),
        )  # fmt: skip

    # -- the operator's decisions ---------------------------------------------------------
    async def start(
        self,
        admin_id: int,
        texts: Mapping[str, str],
        default_lang: str,
        per_second: float,
        now: datetime,
    ) -> Started:
        """The job and its recipients, taken now, in one transaction (and the draft
        goes); `busy` when another job is active (nothing is written)."""
        ms = to_ms(now)
        async with self._db.transaction() as db:
            async with db.execute(f"SELECT id FROM broadcasts WHERE {_ACTIVE}", ()) as cur:
                active = await cur.fetchone()
            if active is None:
                data = json.dumps(dict(texts), ensure_ascii=False)
                async with db.execute(
                    "INSERT INTO broadcasts (texts, default_lang, state, per_second, created_ms) "
                    "VALUES (?, ?, 'running', ?, ?) RETURNING id",
                    (data, default_lang, per_second, ms),
                ) as cur:
                    (job_id,) = await cur.fetchone()
                await db.execute(
                    "INSERT INTO broadcast_recipients (broadcast_id, user_id) "
                    "SELECT ?, user_id FROM users WHERE reminders = 1 AND blocked = 0",
                    (job_id,),
                )
                await db.execute(
                    "UPDATE broadcasts SET total = (SELECT count(*) FROM broadcast_recipients "
                    "WHERE broadcast_id = ?) WHERE id = ?",
                    (job_id, job_id),
                )
                await db.execute("DELETE FROM broadcast_drafts WHERE admin_id = ?", (admin_id,))
        if active is not None:
            busy = await self.job(int(active[0]))
            assert busy is not None
            return Started("busy", busy)
        job = await self.job(int(job_id))
        assert job is not None
        return Started("started", job)

    async def control(self, action: Control, now: datetime) -> Controlled:
        """Pause, resume or cancel the active job."""
        target = {"pause": "paused", "resume": "running", "cancel": "cancelled"}[action]
        async with self._db.transaction() as db:
            async with db.execute(f"SELECT id, state FROM broadcasts WHERE {_ACTIVE}", ()) as cur:
                active = await cur.fetchone()
            if active is not None and active[1] != target:
                finished = to_ms(now) if target == "cancelled" else None
                await db.execute(
                    "UPDATE broadcasts SET state = ?, finished_ms = ? WHERE id = ?",
                    (target, finished, active[0]),
                )
        if active is None:
            return Controlled(action, "none", await self.status())
        job = await self.job(int(active[0]))
        return Controlled(action, "already" if active[1] == target else "done", job)

    # -- the job ----------------------------------------------------------------------------
    async def running(self) -> RunningJob | None:
        rows = await self._db.fetch_all(
            "SELECT id, texts, default_lang FROM broadcasts WHERE state = 'running' "
            "ORDER BY id LIMIT 1"
        )
        if not rows:
            return None
        return RunningJob(int(rows[0][0]), json.loads(rows[0][1]), str(rows[0][2]))

    async def background(self) -> int:
        """Rows of background kinds (reminders, alerts, broadcasts) in the outbox."""
        rows = await self._db.fetch_all(f"SELECT count(*) FROM outbox WHERE {_BACKGROUND}")
        return int(rows[0][0])

    async def waiting(self, job_id: int, limit: int) -> list[Recipient]:
        """The next people the job has not reached yet, by id."""
        rows = await self._db.fetch_all(
            "SELECT r.user_id, u.first_name, u.lang, u.reminders = 1 AND u.blocked = 0 "
            "FROM broadcast_recipients r JOIN users u ON u.user_id = r.user_id "
            "WHERE r.broadcast_id = ? AND r.state = 'waiting' ORDER BY r.user_id LIMIT ?",
            (job_id, limit),
        )
        return [Recipient(int(r[0]), str(r[1]), str(r[2]), bool(r[3])) for r in rows]

    async def queue(
        self,
        job_id: int,
        messages: Sequence[tuple[int, str]],
        settled: Sequence[tuple[int, str]],
        now: datetime,
    ) -> None:
        """In one transaction: each (user id, text) of `messages` into the outbox and its
        recipient `queued`, only while it is waiting and the job runs (never twice); each
        (user id, state) of `settled` (skipped, refused) so, without a message."""
        ms = to_ms(now)
        still = (
            "SELECT 1 FROM broadcast_recipients r JOIN broadcasts b ON b.id = r.broadcast_id "
            "WHERE r.broadcast_id = ? AND r.user_id = ? AND r.state = 'waiting' "
            "AND b.state = 'running'"
        )
        insert = (
            f"INSERT INTO outbox (chat_id, kind, body, created_ms) "
            f"SELECT ?, '{KIND}', ?, ? WHERE EXISTS ({still})"
        )
        bodies = [
            (uid, json.dumps({"text": text, "buttons": [], KIND: job_id}, ensure_ascii=False))
            for uid, text in messages
        ]
        mark = (
            "UPDATE broadcast_recipients SET state = ? WHERE broadcast_id = ? AND user_id = ? "
            "AND state = 'waiting' AND EXISTS (SELECT 1 FROM broadcasts WHERE id = ? "
            "AND state = 'running')"
        )
        await self._db.write(
            (insert, [(uid, body, ms, job_id, uid) for uid, body in bodies]),
            (mark, [("queued", job_id, uid, job_id) for uid, _ in messages]),
            (mark, [(state, job_id, uid, job_id) for uid, state in settled]),
        )

    async def finish(self, job_id: int, now: datetime) -> bool:
        """The job is done once nobody waits and nothing of it is in the outbox."""
        changed = await self._db.write((
            "UPDATE broadcasts SET state = 'done', finished_ms = ? WHERE id = ? "
            "AND state = 'running' AND NOT EXISTS (SELECT 1 FROM broadcast_recipients "
            "WHERE broadcast_id = ? AND state IN ('waiting', 'queued'))",
            [(to_ms(now), job_id, job_id)],
        ))  # fmt: skip
        return changed > 0

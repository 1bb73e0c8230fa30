"""The embedded SQLite store (aiosqlite, WAL, versioned migrations).

One connection, one writer at a time: every public method runs as one transaction under
an asyncio lock, so that coroutines sharing the connection never interleave statements.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import StoreError
from bot.events import Record
from bot.state import UserState

_USER_TABLES = ("events", "stages_completed", "milestones", "conversations", "users")


def migrations() -> list[tuple[int, str]]:
    """(version, SQL) pairs from bot/store/migrations/NNNN_name.sql, in order."""
    found = []
    for entry in resources.files("bot.store.migrations").iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class SqliteStore:
    """`Store` on a SQLite file."""

    def __init__(self, db: aiosqlite.Connection, path: str) -> None:
        self._db = db
        self.path = path
        self._lock = asyncio.Lock()

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

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        current = int(row[0]) if row else 0
        steps = migrations()
        latest = steps[-1][0] if steps else 0
        if current > latest:
            raise StoreError(
                f"{self.path}: database schema version {current} is newer than this program "
                f"knows ({latest}); upgrade VIE Coach"
            )
        for version, sql in steps:
            if version <= current:
                continue
            # executescript commits on its own; the version bump is inside the same script.
            await self._db.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
            )

    async def load(self, user_id: int) -> UserState | None:
        query = """
            SELECT u.lang, u.created_at, u.first_name, c.flow, c.node, c.node_version, c.vars,
                   u.reminders, c.pending, c.dialog_version, u.updated_at,
                   (SELECT group_concat(milestone, ' ') FROM milestones m WHERE m.user_id = u.user_id),
                   (SELECT group_concat(stage, ' ') FROM stages_completed s WHERE s.user_id = u.user_id)
            FROM users u LEFT JOIN conversations c ON c.user_id = u.user_id
            WHERE u.user_id = ?"""
        async with self._lock, self._db.execute(query, (user_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return UserState(
            user_id=user_id,
            lang=row[0],
            created_at=datetime.fromisoformat(row[1]),
            first_name=row[2],
            flow=row[3],
            node=row[4],
            node_version=row[5] or "",
            vars=json.loads(row[6] or "{}"),
            reminders=bool(row[7]),
            pending=row[8],
            dialog_version=row[9] or "",
            updated_at=datetime.fromisoformat(row[10]),
            milestones=frozenset((row[11] or "").split()),
            completed=frozenset((row[12] or "").split()),
        )

    async def save(
        self,
        before: UserState | None,
        after: UserState,
        records: Sequence[Record],
        milestone_stage: Mapping[str, str],
    ) -> None:
        now = _iso(after.updated_at) or _iso(after.created_at)
        old_milestones = before.milestones if before else frozenset()
        old_stages = before.completed if before else frozenset()
        new_milestones = [
            [m, milestone_stage.get(m)] for m in sorted(after.milestones - old_milestones)
        ]
        events = [[r.name, dict(r.data)] for r in records]
        row = (
            after.user_id,
            after.first_name,
            after.lang,
            int(after.reminders),
            _iso(after.created_at),
            now,
            after.flow,
            after.node,
            after.node_version,
            _json(dict(after.vars)),
            after.pending,
            after.dialog_version,
            _json(new_milestones),
            _json(sorted(after.completed - old_stages)),
            _json(events),
        )
        async with self._lock:
            await self._db.execute(f"INSERT INTO turns VALUES ({', '.join('?' * len(row))})", row)

    async def forget(self, user_id: int) -> None:
        # Every table refers to users ON DELETE CASCADE: one statement erases it all.
        async with self._lock:
            await self._db.execute("DELETE FROM users WHERE user_id = ?", (user_id,))

    async def export(self, user_id: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with self._lock:
            for table in reversed(_USER_TABLES):
                async with self._db.execute(
                    f"SELECT * FROM {table} WHERE user_id = ?", (user_id,)
                ) as cur:
                    names = [d[0] for d in cur.description]
                    rows = [dict(zip(names, r, strict=True)) for r in await cur.fetchall()]
                for row in rows:
                    row.pop("user_id", None)
                    if "data" in row or "vars" in row:
                        key = "data" if "data" in row else "vars"
                        row[key] = json.loads(row[key])
                out[table] = rows
        return out

    async def close(self) -> None:
        await self._db.close()


async def open_store(path: str | Path) -> SqliteStore:
    """Open (creating folder and file if needed) and migrate a SQLite store."""
    shown = str(path)
    if shown != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{shown}: cannot create its folder ({exc.strerror})") from exc
    try:
        db = await aiosqlite.connect(shown, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{shown}: cannot open the database ({exc})") from exc
    store = SqliteStore(db, shown)
    try:
        async with db.execute("PRAGMA journal_mode = WAL") as cur:
            await cur.fetchone()
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA busy_timeout = 5000")
        await store._migrate()
    except sqlite3.DatabaseError as exc:
        await db.close()
        raise StoreError(
            f"{shown}: not a VIE Coach database, or the file is damaged ({exc})"
        ) from exc
    except StoreError:
        await db.close()
        raise
    return store

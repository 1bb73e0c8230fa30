"""Opening a SQLite store: its folder, the single-instance lock, the connection's
settings, and the migrations (bot/store/migrations/NNNN_name.sql, run at start)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import TypeAlias

import aiosqlite

from bot.errors import StoreError
from bot.store.lock import InstanceLock
from bot.store.pg_opening import is_postgres, open_pg_store
from bot.store.postgres import PgStore
from bot.store.scripts import numbered_scripts
from bot.store.sqlite import SqliteStore

# Either store: the app and the tools use what both offer.
SqlStore: TypeAlias = SqliteStore | PgStore


async def open_store(
    path: str | Path,
    cache_size: int = 10_000,
    keep_unknown: timedelta = timedelta(days=30),
    *,
    exclusive: bool = True,
    read_only: bool = False,
) -> SqlStore:
    """Open the store at `path`: a `postgresql://` address, else a SQLite file."""
    if is_postgres(path):
        return await open_pg_store(str(path), keep_unknown, read_only=read_only)
    return await open_sqlite(
        path, cache_size, keep_unknown, exclusive=exclusive, read_only=read_only
    )


async def open_sqlite(
    path: str | Path,
    cache_size: int = 10_000,
    keep_unknown: timedelta = timedelta(days=30),
    *,
    exclusive: bool = True,
    read_only: bool = False,
) -> SqliteStore:
    """Open (creating folder and file if needed) and migrate a SQLite store. `exclusive`:
    refuse (StoreLocked) if another process serves it, and keep others out until closed.
    `read_only`: the tools that only look (`vie-coach unknown`, `poison`) beside a running
    bot: nothing created, nothing migrated, a database of another version refused."""
    shown = str(path)
    if read_only:
        return await _open_read_only(Path(path), cache_size, keep_unknown)
    lock = None
    if shown != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{shown}: cannot create its folder ({exc.strerror})") from exc
        if exclusive:
            lock = InstanceLock.take(path)
    try:
        db = await aiosqlite.connect(shown, isolation_level=None)
    except sqlite3.Error as exc:
        if lock is not None:
            lock.release()
        raise StoreError(f"{shown}: cannot open the database ({exc})") from exc
    store = SqliteStore(db, shown, cache_size, keep_unknown)
    store.instance_lock = lock
    try:
        async with db.execute("PRAGMA journal_mode = WAL") as cur:
            await cur.fetchone()
        await db.execute("PRAGMA foreign_keys = ON")
        # deleted rows are overwritten, not only unlinked: /forget leaves nothing to read
        await db.execute("PRAGMA secure_delete = ON")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA busy_timeout = 5000")
        # 16 MiB of page cache (default 2): the outbox index stays in memory at a million rows
        await db.execute("PRAGMA cache_size = -16384")
        await _migrate(store, db)
    except sqlite3.DatabaseError as exc:
        await store.close()
        raise StoreError(
            f"{shown}: not a VIE Coach database, or the file is damaged ({exc})"
        ) from exc
    except StoreError:
        await store.close()
        raise
    return store


async def _open_read_only(path: Path, cache_size: int, keep_unknown: timedelta) -> SqliteStore:
    if not path.is_file():
        raise StoreError(f"{path}: no such database (give --db, or run from the bot's folder)")
    try:
        db = await aiosqlite.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the database ({exc})") from exc
    store = SqliteStore(db, str(path), cache_size, keep_unknown)
    try:
        await db.execute("PRAGMA busy_timeout = 5000")
        async with db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
    except sqlite3.DatabaseError as exc:
        await store.close()
        raise StoreError(f"{path}: not a VIE Coach database, or damaged ({exc})") from exc
    version, latest = int(row[0]) if row else 0, migrations()[-1][0]
    if version != latest:
        await store.close()
        raise StoreError(
            f"{path}: its schema is version {version}, this program reads version {latest}: "
            "use the vie-coach that serves it (a running bot migrates its database at start)"
        )
    return store


def migrations() -> list[tuple[int, str]]:
    """(version, SQL) pairs from bot/store/migrations/NNNN_name.sql, in order."""
    return numbered_scripts("bot.store.migrations")


async def _migrate(store: SqliteStore, db: aiosqlite.Connection) -> None:
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    current = int(row[0]) if row else 0
    steps = migrations()
    latest = steps[-1][0] if steps else 0
    if current > latest:
        raise StoreError(
            f"{store.path}: database schema version {current} is newer than this program "
            f"knows ({latest}); upgrade VIE Coach"
        )
    for version, sql in steps:
        if version > current:
            # executescript commits on its own; the version bump is inside the same script.
            await db.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
            )

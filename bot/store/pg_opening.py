"""Opening a PostgreSQL store: the connection pool, and the migrations
(bot/store/pg_migrations/NNNN_name.sql), run by whichever worker starts first while the
others wait on an advisory lock."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from bot.errors import StoreError
from bot.store.pg_locks import PgLocks
from bot.store.postgres import PgStore
from bot.store.scripts import numbered_scripts

# The advisory lock held while a worker migrates, in a key space of its own (the
# one-integer form is people's: bot/store/pg_locks.py): "VIE" in ASCII, and 0
_MIGRATING = (0x564945, 0)
_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS vie_schema (version integer NOT NULL)"


def is_postgres(target: object) -> bool:
    """Whether a store's address names a PostgreSQL database (else a SQLite file)."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def shown_url(url: str) -> str:
    """The address without its password (in the user part or `?password=`), for
    messages and logs."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"])
    netloc = parts.netloc
    if parts.password is not None:
        host = parts.hostname or ""
        netloc = f"{parts.username}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def pg_migrations() -> list[tuple[int, str]]:
    """(version, SQL) pairs from bot/store/pg_migrations/NNNN_name.sql, in order."""
    return numbered_scripts("bot.store.pg_migrations")


async def open_pg_store(
    url: str,
    keep_unknown: timedelta = timedelta(days=30),
    *,
    read_only: bool = False,
    connections: int = 8,
) -> PgStore:
    """Connect, migrate (unless `read_only`: then a database of another version is
    refused) and return the store. Any number of workers may open one database."""
    shown = shown_url(url)
    try:
        first = await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(
            f"{shown}: cannot connect to PostgreSQL ({reason}): check store.url and that "
            "the server runs"
        ) from None
    try:
        async with first:
            await _migrate(first, shown, read_only)
    except psycopg.Error as exc:
        raise StoreError(f"{shown}: cannot prepare the database ({exc})") from None
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=connections,
        open=False,
        kwargs={"autocommit": True},
        name="vie-coach",
    )
    try:
        await pool.open(wait=True, timeout=10)
    except PoolTimeout:
        with contextlib.suppress(Exception):
            await pool.close()
        raise StoreError(f"{shown}: the connection pool could not connect") from None
    return PgStore(pool, PgLocks(url, shown), url, shown, keep_unknown)


async def _migrate(conn: psycopg.AsyncConnection[Any], shown: str, read_only: bool) -> None:
    steps = pg_migrations()
    latest = steps[-1][0] if steps else 0
    async with conn.transaction():
        if not read_only:
            await conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", _MIGRATING)
            await conn.execute(_VERSION_TABLE)
        exists = await (await conn.execute("SELECT to_regclass('vie_schema')")).fetchone()
        current = 0
        if exists is not None and exists[0] is not None:
            row = await (await conn.execute("SELECT max(version) FROM vie_schema")).fetchone()
            current = int(row[0]) if row is not None and row[0] is not None else 0
        if current > latest:
            raise StoreError(
                f"{shown}: database schema version {current} is newer than this program "
                f"knows ({latest}); upgrade VIE Coach"
            )
        if read_only:
            if current != latest:
                raise StoreError(
                    f"{shown}: its schema is version {current}, this program reads version "
                    f"{latest}: use the vie-coach that serves it"
                )
            return
        for version, sql in steps:
            if version > current:
                await conn.execute(sql.encode("utf-8"))  # a script: no parameters
                await conn.execute("INSERT INTO vie_schema (version) VALUES (%s)", (version,))

"""`vie-coach store copy SQLITE_URL POSTGRES_URL`: a bot's data, from its SQLite file into
a PostgreSQL database, so that several workers can serve it (docs/scaling.md).

The source is read beside a running bot, read-only, in ONE snapshot. The target is
migrated (`open_store`), then each table goes over by COPY, referenced tables first,
triggers off (counters copied as they are), in one transaction with its row in
`store_copy_progress`: whole or not at all. So an interrupted copy (Ctrl-C, kill -9, a
lost connection) is finished by running it again: a table copied before is kept if its
rows in the source are the same (a digest), copied again if the bot changed them (the
target is then wholly the latest snapshot), refused if another wrote into it since.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from bot.app import logs
from bot.app.cli_common import fail, run_async
from bot.app.startup import Exit
from bot.errors import StoreError
from bot.store.lock import serving_pid
from bot.store.opening import migrations, open_store
from bot.store.pg_opening import is_postgres, shown_url

BATCH = 5_000  # rows read from SQLite at a time
PROGRESS = "store_copy_progress"
# A table's row: its source rows' digest, and the transaction that wrote it (every
# row's xmin), to know on a rerun whether it is still the source's and still the copy's
_PROGRESS_TABLE = f"""CREATE TABLE IF NOT EXISTS {PROGRESS} (table_name text PRIMARY KEY,
    rows bigint NOT NULL, digest text NOT NULL, writer text NOT NULL,
    done boolean NOT NULL DEFAULT true, copied_at timestamptz NOT NULL DEFAULT now())"""
# One copy into a database at a time: "VIE", "COPY" (the migration and the workers'
# roles use the second keys 0, 1 and 2 of the same space: bot/store/pg_locks.py)
_LOCK = (0x564945, 0x434F5059)
LOCK_WAIT = 10.0  # seconds: the session of a copy just killed ends meanwhile
_HOLDERS = """SELECT objid::bigint, pid FROM pg_locks WHERE locktype = 'advisory' AND granted
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND classid::bigint = 5654853 AND objsubid = 2"""
_COLUMNS = """SELECT c.relname, a.attname, a.attidentity FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid WHERE c.relkind = 'r' AND a.attnum > 0
    AND NOT a.attisdropped AND c.relnamespace = current_schema()::regnamespace
    ORDER BY c.relname, a.attnum"""
_REFERENCES = """SELECT conrelid::regclass::text, confrelid::regclass::text
    FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"""
KEPT = "unchanged since the copy before"
_ANY_ROW = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})")
_COPY = sql.SQL("COPY {} ({}) FROM STDIN")
_TOUCHED = sql.SQL("SELECT count(*), count(*) FILTER (WHERE xmin::text <> %s) FROM {}")
_SETVAL = sql.SQL("SELECT setval(pg_get_serial_sequence(%s, %s), "
                  "greatest(coalesce(max({}), 0), %s) + 1, false) FROM {}")  # fmt: skip
_DONE = (f"INSERT INTO {PROGRESS} (table_name, rows, digest, writer) "
         "VALUES (%s, %s, %s, pg_current_xact_id()::xid::text)")  # fmt: skip
_id = sql.Identifier
_NEXT = ("Next: set [store] url = \"{url}\" (or VIE_STORE_URL) in every worker's "
         "configuration{password}, then start the workers (docs/scaling.md).")  # fmt: skip


@dataclass(frozen=True)
class Table:
    """A table to copy, as the target has it."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key: the order rows are read (and digested) in
    identity: str | None  # the column whose sequence follows the copied ids


@dataclass
class Run:
    """Where the copy stands, for the message of an interruption."""

    tables: list[Table] = field(default_factory=list)
    current: str | None = None
    finished: int = 0


@click.group("store")
def store_command() -> None:
    """Move a bot's data from one store to another."""


@store_command.command("copy")
@click.argument("sqlite_url")
@click.argument("postgres_url")
def copy_command(sqlite_url: str, postgres_url: str) -> None:
    """Copy a bot's data from its SQLite file (SQLITE_URL: a path, or sqlite:///path)
    into a PostgreSQL database (POSTGRES_URL: postgresql://user@host:port/name), for
    several workers. The bot may keep running: the copy is one snapshot of its database.
    Interrupted, the same command finishes it; run again, it copies again only the
    tables the bot changed since."""
    path = sqlite_path(sqlite_url)
    if not is_postgres(postgres_url):
        raise click.BadParameter(
            "give the target as postgresql://user@host:port/database", param_hint="POSTGRES_URL"
        )
    logs.protect(urlsplit(postgres_url).password)
    shown = shown_url(postgres_url)
    run = Run()
    try:
        source = open_source(path, sqlite_url)
    except StoreError as exc:
        fail(Exit.STORE, str(exc))
    try:
        run_async(_migrate(postgres_url))  # a target unreachable or newer: one line
        copy_store(source, path, postgres_url, shown, run)
    except KeyboardInterrupt:
        fail(Exit.INTERRUPTED, _interrupted(run, "interrupted"))
    except psycopg.Error as exc:  # the connection lost, mostly
        fail(Exit.STORE, _interrupted(run, f"{shown}: {_reason(exc)},"))
    except sqlite3.Error as exc:
        fail(Exit.STORE, _interrupted(run, f"{path}: cannot read it ({exc}),"))
    except StoreError as exc:
        fail(Exit.STORE, str(exc))
    finally:
        source.close()


def sqlite_path(text: str) -> Path:
    """A plain path, or sqlite:///relative and sqlite:////absolute (SQLAlchemy's forms)."""
    if not text.startswith("sqlite:"):
        return Path(text)
    if not text.startswith("sqlite:///"):
        raise click.BadParameter(
            "write sqlite:///relative/path or sqlite:////absolute/path (or a plain path)",
            param_hint="SQLITE_URL",
        )
    return Path(text.removeprefix("sqlite:///"))


def _interrupted(run: Run, why: str) -> str:
    if run.current is None:
        return f"{why.rstrip(',')}: run the same command again to copy"
    return (f"{why} while copying {run.current}: {run.finished} of {len(run.tables)} "
            f"tables are in the target, {run.current} is not; run the same command again "
            "to finish")  # fmt: skip


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


async def _migrate(url: str) -> None:
    store = await open_store(url)
    await store.close()


def open_source(path: Path, given: str) -> sqlite3.Connection:
    """The source, read-only, its snapshot taken (a read transaction begun): refused
    unless it is a VIE Coach database of the schema this program writes."""
    if not path.is_file():
        hint = ""
        if given.startswith("sqlite:") and not path.is_absolute():
            hint = " (sqlite:///x is x in the current folder; sqlite:////srv/x is /srv/x)"
        raise StoreError(f"{path.resolve()}: no such database{hint}")
    try:
        src = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the database ({exc})") from None
    try:
        src.execute("PRAGMA busy_timeout = 5000")
        src.execute("BEGIN")  # one snapshot for the whole copy, from the first read
        tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        (version,) = src.execute("PRAGMA user_version").fetchone()
    except sqlite3.DatabaseError as exc:
        src.close()
        raise StoreError(f"{path}: not a VIE Coach database, or damaged ({exc})") from None
    latest = migrations()[-1][0]
    problem = None
    if version == 0 or not {"users", "conversations"} <= tables:
        problem = "not a VIE Coach database (no VIE Coach tables in it)"
    elif version > latest:
        problem = (f"its schema is version {version}, newer than this program knows "
                   f"({latest}): copy with the vie-coach that serves it")  # fmt: skip
    elif version < latest:
        problem = (f"its schema is version {version}, this program copies version {latest}: "
                   "start the bot once on it with this vie-coach (it migrates its database "
                   "at start), then copy")  # fmt: skip
    if problem is not None:
        src.close()
        raise StoreError(f"{path}: {problem}")
    return src


def copy_store(src: sqlite3.Connection, path: Path, url: str, shown: str, run: Run) -> None:
    """Copy every table of `src` not yet in the target (or changed since), printing a
    line per table and the summary."""
    began = time.monotonic()
    pid = serving_pid(path)
    try:
        pg = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise StoreError(f"{shown}: cannot connect to PostgreSQL ({_reason(exc)})") from None
    with pg:
        copier = Copier(src, pg, shown)
        run.tables = plan(src, pg, path)
        before = copier.progress(run.tables)
        click.echo(f"Copying {path} (snapshot of {datetime.now(UTC):%H:%M:%S} UTC) into {shown}")
        if before:
            click.echo(f"  {len(before)} table(s) were copied here before: each is kept if "
                       "the source still holds the same rows, else copied again")  # fmt: skip
        total = fresh = 0
        for table in run.tables:
            run.current = table.name
            rows, how = copier.table(table, before.get(table.name))
            total, fresh = total + rows, fresh + (rows if how != KEPT else 0)
            run.finished += 1
            click.echo(f"  {table.name:<22} {rows:>12,}  {how}")
        run.current = None
    seconds = time.monotonic() - began
    click.echo(f"  {'total':<22} {total:>12,}  rows, {fresh:,} copied now in {seconds:.1f} s"
               f"{f' ({fresh / seconds:,.0f} rows/s)' if fresh else ''}; every count checked")  # fmt: skip
    if pid is not None and serving_pid(path) is not None:
        click.echo(f"The bot still serves {path} (pid {pid}): what it writes from now on is "
                   "not in the copy. Stop it, then run this same command again (it copies "
                   "again only the tables that changed).")  # fmt: skip
    secret = " (with its password)" if urlsplit(url).password is not None else ""
    click.echo(_NEXT.format(url=shown, password=secret))


def plan(src: sqlite3.Connection, pg: psycopg.Connection[Any], path: Path) -> list[Table]:
    """The source's tables (but SQLite's own), with the target's columns, which must be
    the source's, referenced tables first."""
    columns: dict[str, list[str]] = {}
    identity: dict[str, str] = {}
    for name, column, is_identity in pg.execute(_COLUMNS):
        columns.setdefault(name, []).append(column)
        if is_identity:  # 'a' or 'd' (always, by default), '' for another column
            identity[name] = column
    parents: dict[str, set[str]] = {}
    for child, parent in pg.execute(_REFERENCES):
        parents.setdefault(child, set()).add(parent)
    tables = {}
    for (name,) in src.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                               "AND name NOT LIKE 'sqlite%' ORDER BY name").fetchall():  # fmt: skip
        if name not in columns:
            raise StoreError(f"{path}: the target's schema has no table {name}: is this "
                             "vie-coach the version that serves the bot?")  # fmt: skip
        info = src.execute(f"PRAGMA table_info({_quoted(name)})").fetchall()
        own = [r[1] for r in info]
        for column in sorted(set(own) ^ set(columns[name])):
            side = "SQLite" if column in own else "PostgreSQL"
            raise StoreError(f"{name}.{column}: only the {side} table has this column: the "
                             "schemas differ (is this vie-coach the one serving the bot?)")  # fmt: skip
        key = tuple(r[1] for r in sorted(info, key=lambda r: r[5]) if r[5])
        tables[name] = Table(name, tuple(columns[name]), key, identity.get(name))
    order: list[str] = []

    def visit(name: str, path: frozenset[str]) -> None:
        if name in order or name in path:  # placed already, or a cycle
            return
        for parent in sorted(parents.get(name, set()) & tables.keys()):
            visit(parent, path | {name})
        order.append(name)

    for name in sorted(tables):
        visit(name, frozenset())
    return [tables[name] for name in order]


class Copier:
    """The copy's session on the target, and what it does to one table."""

    def __init__(self, src: sqlite3.Connection, pg: psycopg.Connection[Any], shown: str):
        self.src, self.pg, self.shown = src, pg, shown
        holders = dict(pg.execute(_HOLDERS).fetchall())  # second key: server pid
        if holders.keys() & {1, 2}:
            raise StoreError(f"{shown}: workers serve this database (one holds the sender "
                             "or poller role): stop them before copying into it")  # fmt: skip
        pg.execute("SELECT set_config('lock_timeout', %s, false)", (f"{LOCK_WAIT * 1000:.0f}",))
        try:
            pg.execute("SELECT pg_advisory_lock(%s, %s)", _LOCK)
        except pg_errors.LockNotAvailable:
            pid = holders.get(_LOCK[1], "?")
            raise StoreError(
                f"{shown}: another `vie-coach store copy` is copying into this database "
                f"(server pid {pid}): let it finish. If it was cut off, its session ends when "
                f"the server notices (or end it: SELECT pg_terminate_backend({pid}))"
            ) from None
        pg.execute("SET lock_timeout = 0; SET statement_timeout = 0")  # a long COPY is fine
        try:
            # Triggers (the counters) and foreign-key checks off, for this session only:
            # the rows are copied as they are, counters included
            pg.execute("SET session_replication_role = replica")
        except pg_errors.InsufficientPrivilege:
            raise StoreError(f"{shown}: this user may not switch the triggers off for the copy "
                             "(session_replication_role): copy as a superuser, or first run "
                             "GRANT SET ON PARAMETER session_replication_role TO <user>") from None  # fmt: skip
        self.sequences = dict(src.execute("SELECT name, seq FROM sqlite_sequence").fetchall())

    def one(self, query: sql.Composed | str, args: Any = None) -> Any:
        found = self.pg.execute(query, args).fetchone()
        return None if found is None else found[0]

    def progress(self, tables: list[Table]) -> dict[str, tuple[int, str, str]]:
        """The tables copied before, by name: (rows, digest, writer). A target holding
        rows that no copy wrote is refused: it is in use."""
        if self.one("SELECT to_regclass(%s)::text", (PROGRESS,)) is None:
            holding = [t.name for t in tables if self.one(_ANY_ROW.format(_id(t.name)))]
            if holding:
                more = f" and {len(holding) - 3} more" if len(holding) > 3 else ""
                raise StoreError(
                    f"{self.shown}: this database already holds data ({', '.join(holding[:3])}"
                    f"{more}) and no copy was begun in it: it is in use, or a bot ran on it. "
                    "Copy into a new, empty database (createdb), or empty this one first"
                )
            self.pg.execute(_PROGRESS_TABLE)
            return {}
        query = f"SELECT table_name, rows, digest, writer FROM {PROGRESS} WHERE done"
        return {name: (int(n), digest, xid) for name, n, digest, xid in self.pg.execute(query)}

    def table(self, table: Table, before: tuple[int, str, str] | None) -> tuple[int, str]:
        """Copy one table, unless copied before and unchanged: (its rows, what was done)."""
        if before is None:
            if self.one(_ANY_ROW.format(_id(table.name))):
                raise StoreError(f"{self.shown}: {table.name} holds rows no copy wrote: "
                                 "something else writes into this database; stop it, or "
                                 "copy into a new one")  # fmt: skip
            return self.copy(table, again=False)
        digest = hashlib.blake2b(digest_size=16)
        rows = sum(len(batch) for batch in _read(self.src, table, digest))
        if digest.hexdigest() == before[1]:
            return rows, KEPT
        # Rewritten only if no one else wrote into it: its row count is the copy's and
        # every row's xmin is the copy's transaction
        touched = _TOUCHED.format(_id(table.name))
        count, others = self.pg.execute(touched, (before[2],)).fetchone() or (0, 0)
        if count != before[0] or others:
            raise StoreError(f"{self.shown}: {table.name} changed in the target since it was "
                             "copied (workers serve it?), and in the source too: copying it "
                             "again would lose what was written there; copy into a new, "
                             "empty database instead")  # fmt: skip
        return self.copy(table, again=True)

    def copy(self, table: Table, again: bool) -> tuple[int, str]:
        """One transaction: the table's rows and its progress row, counts checked."""
        name = _id(table.name)
        (expected,) = self.src.execute(f"SELECT count(*) FROM {_quoted(table.name)}").fetchone()
        digest = hashlib.blake2b(digest_size=16)
        copied, shown_at = 0, time.monotonic()
        columns = sql.SQL(", ").join(map(sql.Identifier, table.columns))
        with self.pg.transaction():
            if again:  # FK actions are off (replica): no row of another table goes too
                self.pg.execute(sql.SQL("DELETE FROM {}").format(name))
            try:
                with self.pg.cursor() as cur, cur.copy(_COPY.format(name, columns)) as copy:
                    for rows in _read(self.src, table, digest):
                        for row in rows:
                            copy.write_row(row)
                        copied += len(rows)
                        if time.monotonic() - shown_at > 10:  # a long table: say it goes on
                            click.echo(f"  {table.name}: {copied:,} of {expected:,}", err=True)
                            shown_at = time.monotonic()
            except (pg_errors.DataError, pg_errors.IntegrityError) as exc:
                where = f" ({exc.diag.context.strip()})" if exc.diag.context else ""
                raise StoreError(
                    f"{table.name}: PostgreSQL refused a row: {_reason(exc)}{where}"
                ) from None
            target = self.one(sql.SQL("SELECT count(*) FROM {}").format(name))
            if not expected == copied == target:
                raise StoreError(f"{table.name}: {expected:,} rows in the source, {target:,} "
                                 "in the target after the copy: this table is not copied")  # fmt: skip
            if table.identity is not None:
                # Ids go on from the highest the source ever gave (AUTOINCREMENT keeps it
                # in sqlite_sequence even once its row is gone)
                seq = int(self.sequences.get(table.name, 0))
                self.pg.execute(_SETVAL.format(_id(table.identity), name),
                                (table.name, table.identity, seq))  # fmt: skip
            self.pg.execute(f"DELETE FROM {PROGRESS} WHERE table_name = %s", (table.name,))
            self.pg.execute(_DONE, (table.name, copied, digest.hexdigest()))
        return copied, "copied again (changed since)" if again else "copied"


def _read(src: sqlite3.Connection, table: Table, digest: Any) -> Iterator[list[Any]]:
    """The source's rows of `table` in batches, in the target's column order and primary
    key order, each row added to `digest` (the same, however many a batch holds)."""
    columns = ", ".join(map(_quoted, table.columns))
    order = ", ".join(map(_quoted, table.key)) or "rowid"
    cur = src.execute(f"SELECT {columns} FROM {_quoted(table.name)} ORDER BY {order}")
    while rows := cur.fetchmany(BATCH):
        digest.update("".join(f"{row!r}\n" for row in rows).encode("utf-8"))
        yield rows


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

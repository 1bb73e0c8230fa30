"""`vie-coach store copy`: a lived-in SQLite store (the chat harness over the mini
dialogs, advocates, an experiment, a broadcast, dialog versions, inbox and outbox) is
copied into a fresh PostgreSQL database while its bot still holds it, and every table,
the funnel, and the turns saved afterwards are compared; an interrupted copy is
finished by running it again; a target in use, a bad source and a password are
handled as an operator needs.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from bot.app import store_command as command
from bot.core.dialogset import DialogSet
from bot.core.events import Send
from bot.core.state import new_state
from bot.features.advocates.effects import CreateInvite, CreditReferral, Notify, RevokeInvite
from bot.features.advocates.records import Invitation
from bot.features.advocates.state import ADVOCACY
from bot.store import SqliteStore, open_sqlite, open_store
from bot.store.funnel import BY, read_funnel
from bot.store.opening import SqlStore, migrations
from bot.store.queues import Outgoing

from .test_funnel import known_history
from .test_pg_queries import exposure, harnesses, save

MINUTE = timedelta(minutes=1)
MONTH = timedelta(days=30)
PASSWORD = "S3cret-Pa55word"
INTERNAL = ("sqlite_sequence", "sqlite_stat1")
ROOT = Path(__file__).resolve().parent.parent
KILL_THE_COPY = """SELECT pg_terminate_backend(pid) FROM pg_locks
    WHERE locktype = 'advisory' AND objid::bigint = %s AND granted"""
# The copy, in a process of its own, stopping for good in the middle of funnel_counts
SLOW_COPY = """
import sys, time
from bot.app import store_command as c
real = c._read
def slow(src, table, digest):
    for batch in real(src, table, digest):
        yield batch
        if table.name == "funnel_counts":
            print("sending funnel_counts", flush=True)
            time.sleep(60)
c._read = slow
c.BATCH = 5
c.store_command(["copy", *sys.argv[1:]])
"""


def copy(source: Path | str, target: str, *more: str) -> Result:
    return CliRunner().invoke(command.store_command, ["copy", str(source), target, *more])


async def copied(source: Path | str, target: str) -> Result:
    """The command, run in a thread (it runs its own event loop)."""
    return await asyncio.to_thread(copy, source, target)


async def lived_in(store: SqliteStore, mini: DialogSet) -> datetime:
    """Rows in (nearly) every table: the funnel's known history, an advocate with an
    invitation revoked, friends and alerts, an exposure, a broadcast, a dialog version,
    a group, a text not understood, the inbox, poison, and an outbox whose newest row
    was sent (so that SQLite's AUTOINCREMENT is above the highest id left)."""
    people = await known_history(harnesses(store, mini))
    now = people["Anne"].now()
    paul = await save(store, new_state(101, "fr", now, "Paul"))
    invitations = [
        Invitation("pay-own", "CODE1", 101),
        Invitation("pay-luc", "CODE2", 101, name="Luc"),
    ]
    paul = await save(store, replace(paul, updated_at=now), *map(CreateInvite, invitations))
    await save(store, replace(paul, updated_at=now + MINUTE), RevokeInvite("pay-luc"))
    for uid in (102, 103):
        at = now + uid * MINUTE
        friend = ADVOCACY.update(new_state(uid, "fr", at, f"F{uid}"), referrer=101)
        await save(store, friend, CreditReferral(101, "pay-own", (101,)),
                   Notify(101, "joined", None, at), exposure("a" if uid == 102 else "b"))  # fmt: skip
    b = store.broadcasts
    started = await b.start(101, {"fr": "Salut", "en": "Hi"}, "fr", 2.5, now)
    await b.queue(started.job.id, [(102, "Salut F102")], [(103, "skipped")], now)
    await b.save_draft(101, {"fr": "Le prochain"}, now + MINUTE)
    await store.versions.served("v1", {"welcome.yaml": "flow: welcome\n% ? é"}, "start", now)
    ms = int(now.timestamp() * 1000)
    await store.write(
        ("INSERT INTO group_chats (chat_id, told_at) VALUES (?, ?)", [(-100, now.isoformat())]),
        ("INSERT INTO unknown_texts (user_id, node, lang, text, text_key, at_ms) "
         "VALUES (?, ?, ?, ?, ?, ?)", [(2, "welcome.menu", "fr", "bof 100% ?", "bof", ms)]),
        ("INSERT INTO console_links (nonce_hash, admin_id, expires_ms) VALUES (?, ?, ?)",
         [("ab" * 32, 1, ms)]),
    )  # fmt: skip
    await store.inbox.add([(900, '{"update_id": 900}', 1), (901, "{}", None)], now)
    await store.inbox.set_aside(901, "KeyError", now)
    await store.outbox.add([Outgoing.message(1, Send(f"n°{i} 50% ?")) for i in range(4)], now)
    newest = (await store.outbox.after(0))[-1].id
    await store.outbox.sent([newest])
    return now


def sqlite_tables(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {n: [r[1] for r in db.execute(f"PRAGMA table_info({n})")]
                for n in names if n not in INTERNAL}  # fmt: skip


def rows_of(path: Path, url: str) -> dict[str, tuple[list[Any], list[Any]]]:
    """Every table's rows on each side (SQLite, PostgreSQL), sorted."""
    found = {}
    with sqlite3.connect(path) as lite, psycopg.connect(url) as pg:
        for name, columns in sqlite_tables(path).items():
            select = f"SELECT {', '.join(columns)} FROM {name}"
            found[name] = (sorted(lite.execute(select).fetchall(), key=repr),
                           sorted(pg.execute(select).fetchall(), key=repr))  # fmt: skip
    return found


def assert_same(path: Path, url: str) -> dict[str, int]:
    counts = {}
    for name, (lite, pg) in rows_of(path, url).items():
        assert lite == pg, f"{name}: the copy differs"
        counts[name] = len(lite)
    return counts


async def funnels(store: SqlStore, now: datetime) -> list[Any]:
    return [await read_funnel(store.fetch_all, now, MONTH, by) for by in (None, *BY)]


@pytest.fixture
async def source(
    tmp_path: Path, mini: DialogSet
) -> AsyncIterator[tuple[SqliteStore, Path, datetime]]:
    store = await open_sqlite(tmp_path / "vie.db")
    now = await lived_in(store, mini)
    yield store, tmp_path / "vie.db", now
    await store.close()


async def test_a_running_bots_store_is_copied_whole(
    source: tuple[SqliteStore, Path, datetime], pg_url: str, mini: DialogSet
) -> None:
    store, path, now = source  # still open, its lock held: the bot runs
    result = await copied(f"sqlite:///{path}", pg_url)  # four slashes: an absolute path
    assert result.exit_code == 0, result.output
    counts = assert_same(path, pg_url)
    empty = sorted(name for name, n in counts.items() if n == 0)
    assert len(counts) == 31 and not empty, f"a history worth copying (empty: {empty})"
    lines = result.output.splitlines()
    assert lines[0].startswith(f"Copying {path} (snapshot of ")
    assert all(f"  {name} " in result.output for name in counts)
    assert "copied now" in lines[-3] and f"{sum(counts.values()):,}" in lines[-3]
    assert "The bot still serves" in lines[-2] and "run this same command again" in lines[-2]
    assert lines[-1].startswith('Next: set [store] url = "postgresql://') and "scaling" in lines[-1]
    order = [line.split()[0] for line in lines[1:-3]]
    assert order.index("users") < order.index("conversations") < order.index("exposures")
    assert order.index("broadcasts") < order.index("broadcast_recipients")
    assert order.index("dialog_files") < order.index("dialog_served")
    pg = await open_store(pg_url)
    try:
        assert await funnels(pg, now) == await funnels(store, now)
        assert await pg.versions.history() == await store.versions.history()
        # the sequences go on above every id the source gave, sent rows' included
        (seq,) = await store.fetch_all("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'")
        (events,) = await store.fetch_all("SELECT max(id) FROM events")
        await pg.outbox.add([Outgoing.message(1, Send("après"))], now)
        assert [q.id for q in await pg.outbox.after(seq[0])] == [seq[0] + 1]
        bruno = harnesses(pg, mini)
        people = [await bruno(user_id=2, name="Bruno"), await bruno(user_id=50, name="Nouveau")]
        await people[0].send("/start")
        await people[1].send("/start")
        new = await pg.fetch_all(
            "SELECT user_id FROM events WHERE id > ? ORDER BY id", (events[0],)
        )
        assert {2, 50} <= {r[0] for r in new}, "new events, ids after the copied ones"
        (started,) = await pg.fetch_all(
            "SELECT sum(n)::bigint FROM funnel_counts WHERE metric = 'started' AND lang = ''"
        )
        assert started[0] == counts["users"] + 1, "the triggers run again after the copy"
    finally:
        await pg.close()


async def test_an_interrupted_copy_finishes_when_run_again(
    source: tuple[SqliteStore, Path, datetime], pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, path, _ = source
    real = command.Copier.copy
    calls: list[str] = []

    def ctrl_c_at_the_fourth(self: command.Copier, table: command.Table, again: bool) -> Any:
        calls.append(table.name)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(self, table, again)

    monkeypatch.setattr(command.Copier, "copy", ctrl_c_at_the_fourth)
    result = await copied(path, pg_url)
    assert result.exit_code == 130
    assert (
        f"interrupted while copying {calls[3]}: 3 of 31 tables are in the target" in result.output
    )
    assert "run the same command again to finish" in result.output
    monkeypatch.setattr(command.Copier, "copy", real)
    # the connection lost in the middle of a table (the server ends the copy's session):
    # none of its rows stay
    monkeypatch.setattr(command, "BATCH", 2)
    real_read = command._read

    def cut_off(src: sqlite3.Connection, table: command.Table, digest: Any) -> Any:
        for n, batch in enumerate(real_read(src, table, digest)):
            if table.name == "events" and n == 2:
                with psycopg.connect(pg_url, autocommit=True) as admin:
                    admin.execute(KILL_THE_COPY, (command._LOCK[1],))
            yield batch

    monkeypatch.setattr(command, "_read", cut_off)
    result = await copied(path, pg_url)
    assert result.exit_code == 7, result.output
    assert "terminating connection" in result.output, result.output
    assert "administrator command, while copying events: 11 of 31 tables are in" in result.output
    with psycopg.connect(pg_url) as pg:
        assert pg.execute("SELECT count(*) FROM events").fetchone() == (0,)
        done = pg.execute("SELECT count(*) FROM store_copy_progress").fetchone()
    assert done is not None and 4 <= done[0] < 31
    monkeypatch.setattr(command, "_read", real_read)
    # meanwhile the bot went on: a person changed; the rerun copies that table again
    await store.write(("UPDATE users SET first_name = 'Anna' WHERE user_id = 1", [()]))
    result = await copied(path, pg_url)
    assert result.exit_code == 0, result.output
    assert "users" in result.output and "copied again (changed since)" in result.output
    assert f"{done[0]} table(s) were copied here before" in result.output
    assert_same(path, pg_url)
    # once more, nothing changed: every table is kept
    result = await copied(path, pg_url)
    assert result.exit_code == 0 and result.output.count(command.KEPT) == 31
    assert "0 copied now" in result.output


async def test_a_copy_killed_in_the_middle_of_a_table_finishes_when_run_again(
    source: tuple[SqliteStore, Path, datetime], pg_url: str
) -> None:
    """kill -9 while a table's rows are on their way: the server undoes its
    transaction and ends its session (the rerun waits for its lock), the rerun keeps
    the tables before it and copies the rest."""
    _, path, _ = source
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SLOW_COPY, str(path), pg_url, cwd=ROOT, stdout=PIPE
    )
    assert proc.stdout is not None
    async with asyncio.timeout(30):
        while b"sending funnel_counts" not in await proc.stdout.readline():
            pass
    proc.kill()
    await proc.wait()
    result = await copied(path, pg_url)
    assert result.exit_code == 0, result.output
    kept = [line.split()[0] for line in result.output.splitlines() if command.KEPT in line]
    assert kept[:2] == ["users", "advocates"] and "funnel_counts" not in kept
    assert "funnel_advocates" in kept and len(kept) < 31
    assert_same(path, pg_url)


async def test_a_target_in_use_is_refused(
    source: tuple[SqliteStore, Path, datetime], pg_url: str, mini: DialogSet
) -> None:
    _, path, now = source
    pg = await open_store(pg_url)
    await save(pg, new_state(7, "fr", now, "Déjà là"))
    await pg.close()
    result = await copied(path, pg_url)
    assert result.exit_code == 7
    assert "already holds data (users" in result.output and "new, empty database" in result.output
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('store_copy_progress')").fetchone() == (None,)
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (1,)


async def test_a_copy_served_by_workers_since_is_not_overwritten(
    source: tuple[SqliteStore, Path, datetime],
    pg_url: str,
    mini: DialogSet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, path, _ = source
    monkeypatch.setattr(command, "LOCK_WAIT", 0.2)
    assert (await copied(path, pg_url)).exit_code == 0
    pg = await open_store(pg_url)
    try:
        person = await harnesses(pg, mini)(user_id=3, name="Chloé", lang="en")
        await person.send("/start")  # a worker served Chloé on PostgreSQL
        await store.write(("UPDATE users SET first_name = 'Anna' WHERE user_id = 1", [()]))
        result = await copied(path, pg_url)
        assert result.exit_code == 7
        assert "users changed in the target since it was copied" in result.output
        assert await pg.fetch_all("SELECT first_name FROM users WHERE user_id = 1") == [("Anne",)]
        # another copy or a worker on the target now: refused before anything is read
        with psycopg.connect(pg_url, autocommit=True) as other:
            other.execute("SELECT pg_advisory_lock(%s, %s)", command._LOCK)
            assert "another `vie-coach store copy`" in (await copied(path, pg_url)).output
        with psycopg.connect(pg_url, autocommit=True) as worker:
            worker.execute("SELECT pg_advisory_lock(%s, 1)", (command._LOCK[0],))
            assert "workers serve this database" in (await copied(path, pg_url)).output
    finally:
        await pg.close()


async def test_a_bad_source_is_refused_with_one_line(tmp_path: Path, pg_url: str) -> None:
    async def refusal(source: Path | str) -> str:
        result = await copied(source, pg_url)
        assert result.exit_code == 7, result.output
        (line,) = result.output.splitlines()
        return line

    assert "no such database" in await refusal(tmp_path / "nothing.db")
    line = await refusal("sqlite:///nothing.db")
    assert "nothing.db: no such database" in line and "sqlite:////srv/x is /srv/x" in line
    (tmp_path / "notes.txt").write_text("hello " * 1000)
    assert "not a VIE Coach database" in await refusal(tmp_path / "notes.txt")
    with sqlite3.connect(tmp_path / "other.db") as other:
        other.execute("CREATE TABLE things (a)")
    assert "not a VIE Coach database" in await refusal(tmp_path / "other.db")
    with sqlite3.connect(tmp_path / "old.db", isolation_level=None) as old:
        for version, script in migrations()[:5]:
            old.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
    line = await refusal(tmp_path / "old.db")
    assert "schema is version 5" in line and "start the bot once" in line
    with psycopg.connect(pg_url) as pg:  # nothing was done to the target
        assert pg.execute("SELECT to_regclass('users')").fetchone() == (None,)


async def test_a_column_the_target_lacks_is_named(tmp_path: Path, pg_url: str) -> None:
    store = await open_sqlite(tmp_path / "vie.db")
    await store.write(("ALTER TABLE group_chats ADD COLUMN colour TEXT", [()]))
    await store.close()
    result = await copied(tmp_path / "vie.db", pg_url)
    assert result.exit_code == 7
    assert "group_chats.colour: only the SQLite table has this column" in result.output


async def test_the_password_never_shows(tmp_path: Path, pg_url: str) -> None:
    store = await open_sqlite(tmp_path / "vie.db")
    await save(store, new_state(1, "fr", datetime.fromisoformat("2026-01-05T10:00:00+00:00")))
    await store.close()
    with_password = pg_url.replace("://vie@", f"://vie:{PASSWORD}@")  # trust: it is ignored
    result = await copied(tmp_path / "vie.db", with_password)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output and "(with its password)" in result.output
    unreachable = f"postgresql://vie:{PASSWORD}@127.0.0.1:1/nowhere"
    result = await copied(tmp_path / "vie.db", unreachable)
    assert result.exit_code == 7 and "cannot connect to PostgreSQL" in result.output
    assert PASSWORD not in result.output and "vie@127.0.0.1:1/nowhere" in result.output


async def test_a_target_newer_or_not_postgresql_is_refused(tmp_path: Path, pg_url: str) -> None:
    store = await open_sqlite(tmp_path / "vie.db")
    await store.close()
    result = await copied(tmp_path / "vie.db", "mysql://somewhere/db")
    assert result.exit_code == 2 and "postgresql://" in result.output
    pg = await open_store(pg_url)
    await pg.write(("INSERT INTO vie_schema (version) VALUES (?)", [(99,)]))
    await pg.close()
    result = await copied(tmp_path / "vie.db", pg_url)
    assert result.exit_code == 7 and "newer than this program knows" in result.output


async def test_a_user_who_may_not_switch_the_triggers_off_is_told_how(
    tmp_path: Path, pg_url: str
) -> None:
    store = await open_sqlite(tmp_path / "vie.db")
    await store.close()
    await (await open_store(pg_url)).close()  # migrated by its owner
    role = f"plain_{Path(pg_url).name}"
    with psycopg.connect(pg_url, autocommit=True) as owner:
        owner.execute(f"CREATE ROLE {role} LOGIN")
        owner.execute(f"GRANT USAGE, CREATE ON SCHEMA public TO {role}")
        owner.execute(f"GRANT SELECT ON vie_schema TO {role}")
    try:
        result = await copied(tmp_path / "vie.db", pg_url.replace("://vie@", f"://{role}@"))
        assert result.exit_code == 7, result.output
        assert "may not switch the triggers off" in result.output
        assert "GRANT SET ON PARAMETER session_replication_role" in result.output
    finally:
        with psycopg.connect(pg_url, autocommit=True) as owner:
            owner.execute(f"DROP OWNED BY {role}")
            owner.execute(f"DROP ROLE {role}")

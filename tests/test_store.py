"""The store on a real SQLite file in a temp dir and, for what both stores share, on a
real PostgreSQL database (`any_store`)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.events import CancelNudge, Record, ScheduleNudge, Send
from bot.core.state import Pending, new_state
from bot.errors import StoreError
from bot.features.advocates.state import ADVOCACY
from bot.features.nudges.state import NUDGES
from bot.store import SqliteStore, SqlStore, open_store
from bot.store.failures import DATABASE_ERRORS
from bot.store.opening import migrations
from bot.store.queues import Delivery, Outgoing

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_save_and_load_round_trip(any_store: SqlStore) -> None:
    store = any_store
    assert await store.load(42) is None
    state = replace(
        new_state(42, "en", NOW, "Zoé"),
        flow="informer",
        node="intro",
        node_version="abc123",
        vars={"device": "android", "n": 3, "ok": True},
        milestones=frozenset({"i_hidden", "i_time"}),
        completed=frozenset({"I"}),
        pending=Pending("privacy", "forget"),
        dialog_version="v1",
    )
    state = NUDGES.update(state, reminders=False)
    await store.save(None, state, [Record("start", {"invited": False})], {"i_hidden": "I"})
    assert await store.load(42) == state


async def test_progress_rows_carry_their_stage(any_store: SqlStore) -> None:
    store = any_store
    before = new_state(1, "fr", NOW)
    after = replace(before, milestones=frozenset({"e_installed"}), completed=frozenset({"E"}))
    await store.save(None, before, [], {})
    await store.save(before, after, [], {"e_installed": "E"})
    assert await store.fetch_all("SELECT milestone, stage FROM milestones") == [
        ("e_installed", "E")
    ]


async def columns_by_table(store: SqlStore) -> dict[str, list[str]]:
    """Every table of the store and its columns, asked of the database itself."""
    if store.dialect == "sqlite":
        tables = [r[0] for r in await store.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]  # fmt: skip
        return {t: [r[1] for r in await store.fetch_all(f"PRAGMA table_info({t})")] for t in tables}
    found: dict[str, list[str]] = {}
    for table, column in await store.fetch_all(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_schema, table_name) "
        "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
    ):
        found.setdefault(table, []).append(column)
    return found


def forget_cache(store: SqlStore) -> None:
    """As a fresh process would see it (the SQLite store caches; PostgreSQL's does not)."""
    if isinstance(store, SqliteStore):
        store._cache.clear()


async def test_forget_leaves_no_row_about_the_user(any_store: SqlStore) -> None:
    store = any_store
    for uid in (1, 2):
        s = replace(
            new_state(uid, "fr", NOW),
            flow="welcome",
            node="menu",
            milestones=frozenset({"m"}),
            completed=frozenset({"V"}),
        )
        records = [Record("start"), Record("press", {"node": "x"})]
        nudge = ScheduleNudge("followup", NOW + timedelta(days=2))
        await store.save(None, s, [*records, nudge], {"m": "V"}, Delivery(uid))
    await store.forget(1)
    kept = {"users", "conversations", "milestones", "stages_completed", "events", "nudges"}
    tables = await columns_by_table(store)
    assert kept <= set(tables)
    for table, columns in tables.items():
        for column in {"user_id", "friend_id", "advocate_id"} & set(columns):
            rows = await store.fetch_all(f"SELECT count(*) FROM {table} WHERE {column} = 1")
            assert rows == [(0,)], table
        if table in kept:
            rows = await store.fetch_all(f"SELECT count(*) FROM {table} WHERE user_id = 2")
            assert rows[0][0] > 0, table
    assert await store.load(1) is None


async def test_export_holds_everything(any_store: SqlStore) -> None:
    store = any_store
    s = replace(new_state(5, "fr", NOW, "Zoé"), flow="welcome", node="menu", vars={"a": 1})
    await store.save(None, s, [Record("start", {"invited": True})], {})
    data = await store.export(5)
    assert data["users"][0]["first_name"] == "Zoé"
    assert data["conversations"][0]["vars"] == {"a": 1}
    assert data["events"][0]["name"] == "start" and data["events"][0]["data"] == {"invited": True}


async def test_wal_and_schema_version(store: SqliteStore) -> None:
    async with store.connection.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone()) == ("wal",)
    async with store.connection.execute("PRAGMA user_version") as cur:
        assert (await cur.fetchone()) == (migrations()[-1][0],)


async def test_reopening_keeps_data_and_does_not_migrate_twice(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    s = await open_store(path)
    await s.save(None, new_state(9, "fr", NOW), [], {})
    await s.close()
    s = await open_store(path)
    assert (await s.load(9)) is not None
    await s.close()


async def test_missing_folder_is_created(tmp_path: Path) -> None:
    s = await open_store(tmp_path / "a" / "b" / "vie.db")
    await s.close()
    assert (tmp_path / "a" / "b" / "vie.db").exists()


async def test_corrupt_file_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(StoreError, match=r"broken\.db"):
        await open_store(path)


async def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 999")
    with pytest.raises(StoreError, match="newer"):
        await open_store(path)


async def test_failed_transaction_stores_nothing(any_store: SqlStore) -> None:
    store = any_store
    with pytest.raises(RuntimeError):
        async with store.transaction() as db:
            await db.execute(
                "INSERT INTO users (user_id, lang, created_at, updated_at) VALUES (77, 'fr', ?, ?)",
                (NOW.isoformat(), NOW.isoformat()),
            )
            raise RuntimeError("crash in the middle")
    assert await store.load(77) is None


async def test_concurrent_saves_are_committed_together_and_all_survive(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "group.db"
    s = await open_store(path)
    states = [new_state(uid, "fr", NOW, f"P{uid}") for uid in range(200)]
    await asyncio.gather(*(s.save(None, st, [Record("start")], {}) for st in states))
    await s.close()
    s = await open_store(path)  # a fresh process view: nothing served from the cache
    assert [await s.load(st.user_id) for st in states] == states
    await s.close()


async def test_a_turn_settles_its_update_and_queues_its_replies_at_once(
    any_store: SqlStore,
) -> None:
    store = any_store
    update = {"update_id": 41, "message": {"chat": {"id": 1}, "text": "bonjour"}}
    await store.inbox.add([(41, json.dumps(update), 1)], NOW)
    replies = (Outgoing.message(1, Send("Bonjour !")), Outgoing.message(1, Send("Et ensuite ?")))
    await store.save(None, new_state(1, "fr", NOW), [], {}, Delivery(41, replies))
    assert await store.inbox.waiting() == []
    assert [r.as_send().text for r in await store.outbox.after(0)] == ["Bonjour !", "Et ensuite ?"]
    assert await store.inbox.add([(41, json.dumps(update), 1)], NOW) == 0, "a redelivery"
    assert await store.prune(NOW + timedelta(days=3)) == 1
    # a turn that fails stores nothing: neither its state nor its replies, and its update
    # keeps waiting
    await store.inbox.add([(42, json.dumps(update), 1)], NOW)
    bad = replace(new_state(1, "fr", NOW), lang=None)  # type: ignore[arg-type]
    with pytest.raises(DATABASE_ERRORS):
        await store.save(None, bad, [], {}, Delivery(42, (Outgoing.message(1, Send("x")),)))
    assert [w.update_id for w in await store.inbox.waiting()] == [42]
    assert len(await store.outbox.after(0)) == 2


async def test_blocked_flag_and_group_notice(any_store: SqlStore) -> None:
    store = any_store
    await store.save(None, new_state(1, "fr", NOW), [], {})
    await store.set_blocked(1, True)
    assert (await store.load(1)).blocked  # type: ignore[union-attr]
    assert await store.tell_group_once(-100, NOW)
    assert not await store.tell_group_once(-100, NOW)


async def test_nudge_outbox_claim_complete_and_recover(any_store: SqlStore) -> None:
    store = any_store
    due = NOW + timedelta(days=2)
    for uid in (1, 2, 3):
        ops = [ScheduleNudge("followup", due + timedelta(minutes=uid))]
        await store.save(None, new_state(uid, "fr", NOW), ops, {})
    assert await store.next_due() == due + timedelta(minutes=1)
    assert await store.claim_due(NOW, 10, timedelta(minutes=1)) == []
    later = due + timedelta(minutes=2)
    claimed = await store.claim_due(later, 10, timedelta(minutes=1))
    assert [(u, k) for u, k, _ in claimed] == [(1, "followup"), (2, "followup")]
    assert await store.claim_due(later, 10, timedelta(minutes=1)) == [], "in flight: not twice"
    # person 2 was rescheduled while in flight: completing the old claim keeps the new row
    await store.save(
        None, new_state(2, "fr", NOW), [ScheduleNudge("followup", due + timedelta(days=1))], {}
    )
    for user_id, key, at in claimed:  # each nudge's turn says it handled its claim
        await store.save(
            None, new_state(user_id, "fr", NOW), [], {}, Delivery(nudge_done=(key, at))
        )
    rows = await store.fetch_all("SELECT user_id, lease_ms FROM nudges ORDER BY user_id")
    assert rows == [(2, 0), (3, 0)]
    # a crash leaves person 3's nudge in flight: after the lease it is pending again
    (third,) = await store.claim_due(due + timedelta(hours=1), 10, timedelta(minutes=1))
    assert await store.recover_leases(due + timedelta(hours=1, seconds=30)) == 0
    assert await store.recover_leases(due + timedelta(hours=1, minutes=2)) == 1
    assert (await store.claim_due(due + timedelta(hours=2), 10, timedelta(minutes=1)))[0][
        :2
    ] == third[:2]


async def test_nudge_fields_round_trip(any_store: SqlStore) -> None:
    store = any_store
    state = NUDGES.update(replace(new_state(4, "fr", NOW), timezone="America/New_York"),
                          sent=(NOW, NOW + timedelta(hours=1)), ignored_in_a_row=2,
                          step=1, next_at=NOW + timedelta(days=4))  # fmt: skip
    await store.save(None, state, [ScheduleNudge("followup", NOW + timedelta(days=4))], {})
    forget_cache(store)
    assert await store.load(4) == state
    await store.save(state, NUDGES.update(state, next_at=None), [CancelNudge("followup")], {})
    assert await store.next_due() is None


async def test_a_database_from_before_the_advocates_is_upgraded(tmp_path: Path) -> None:
    """Migration 0002 on a store written by the first schema: people keep everything."""
    import sqlite3

    path = tmp_path / "old.db"
    first = migrations()[0]
    with sqlite3.connect(path) as db:
        db.executescript(f"{first[1]}\nPRAGMA user_version = {first[0]};")
        db.execute(
            "INSERT INTO users (user_id, first_name, lang, created_at, updated_at) "
            "VALUES (7, 'Léa', 'fr', ?, ?)",
            (NOW.isoformat(), NOW.isoformat()),
        )
    store = await open_store(path)
    try:
        state = await store.load(7)
        assert state is not None and state.first_name == "Léa"
        assert (
            ADVOCACY.of(state).referrer,
            ADVOCACY.of(state).shares,
            ADVOCACY.of(state).alerts,
            state.active_at,
        ) == (
            None,
            True,
            True,
            None,
        )
        await store.save(state, ADVOCACY.update(state, public=True), [], {})
        store._cache.clear()
        assert ADVOCACY.of(await store.load(7)).public is True  # type: ignore[union-attr]
    finally:
        await store.close()


async def test_the_turn_row_fills_every_column_of_the_view_by_name(store: SqliteStore) -> None:
    """The Python mapping and the `turns` view name the same columns (none forgotten,
    none extra), and a row built from a state has exactly those keys."""
    from bot.store.rows import TURN_COLUMNS, turn_row

    async with store.connection.execute("PRAGMA table_info(turns)") as cur:
        view = [row[1] for row in await cur.fetchall()]
    assert sorted(view) == sorted(TURN_COLUMNS) and len(set(TURN_COLUMNS)) == len(TURN_COLUMNS)
    row = turn_row(None, new_state(1, "fr", NOW), [], {})
    assert sorted(row) == sorted(TURN_COLUMNS)


async def test_feature_records_round_trip_by_column(any_store: SqlStore) -> None:
    store = any_store
    """Each feature's record survives a save and a load, field by field (a swap of two
    columns of the same type would show here)."""
    state = ADVOCACY.update(
        new_state(9, "fr", NOW), shares=False, public=True, alerts=False, invite_tries=2,
        watch_at=NOW + timedelta(days=14), alerts_sent=(NOW,), digest_at=NOW + timedelta(hours=6),
    )  # fmt: skip
    state = NUDGES.update(state, reminders=False, ignored_in_a_row=1, step=2)
    await store.save(None, state, [], {})
    forget_cache(store)
    assert await store.load(9) == state


async def test_migration_0003_keeps_open_questions_and_finished_journeys(tmp_path: Path) -> None:
    """A store written before state-by-feature: the open question keeps its owner, and a
    friend who had finished Eduquer still counts, and stops counting when erased."""
    path = tmp_path / "v2.db"
    with sqlite3.connect(path) as db:
        for version, sql in migrations()[:2]:
            db.executescript(f"{sql}\nPRAGMA user_version = {version};")
        at = NOW.isoformat()
        for uid, name in ((1, "Paul"), (2, "Zoé")):
            db.execute(
                "INSERT INTO users (user_id, first_name, lang, created_at, updated_at) "
                "VALUES (?, ?, 'fr', ?, ?)",
                (uid, name, at, at),
            )
        db.execute("INSERT INTO conversations (user_id, flow, node, pending) VALUES "
                   "(2, 'welcome', 'menu', 'referrer')")  # fmt: skip
        db.execute("INSERT INTO referrals VALUES (2, 1, 'p', '[1]', 0)")
        db.execute("INSERT INTO stages_completed VALUES (2, 'E', ?)", (at,))
        assert db.execute("SELECT finished FROM advocates WHERE user_id = 1").fetchone() == (1,)
    store = await open_store(path)
    try:
        zoe = await store.load(2)
        assert zoe is not None and zoe.pending == Pending("advocates", "referrer")
        assert "E" in zoe.completed
        await store.save(zoe, ADVOCACY.update(zoe, shares=False), [], {})
        rows = await store.fetch_all("SELECT finished, tree_finished FROM advocates")
        assert rows == [(0, 0)]
        await store.save(zoe, ADVOCACY.update(zoe, shares=True), [], {})
        await store.forget(2)
        rows = await store.fetch_all("SELECT friends, finished, tree_finished FROM advocates")
        assert rows == [(0, 0, 0)]
    finally:
        await store.close()


def test_a_postgresql_address_is_shown_without_its_password() -> None:
    from bot.store.pg_opening import shown_url

    assert shown_url("postgresql://vie:s3cret@db:5432/vie") == "postgresql://vie@db:5432/vie"
    shown = shown_url("postgresql://vie@db/vie?password=s3cret&sslmode=require")
    assert shown == "postgresql://vie@db/vie?sslmode=require"


async def test_an_unreachable_postgresql_is_one_clear_error(unused_tcp_port: int) -> None:
    url = f"postgresql://vie:s3cret@127.0.0.1:{unused_tcp_port}/vie"
    with pytest.raises(StoreError) as refused:
        await open_store(url)
    message = str(refused.value)
    assert "cannot connect to PostgreSQL" in message and "s3cret" not in message
    assert f"127.0.0.1:{unused_tcp_port}/vie" in message

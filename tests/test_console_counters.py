"""The console's counters (migration 0009, PostgreSQL 0002; bot/store/console_reads.py):
after real turns on either store, per node the people reached equal reach.py's recount
(by cohort day too), the texts not understood equal a GROUP BY over the kept rows, after
/forget and after pruning; the migration counts the history already there."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bot.core.dialogset import DialogSet
from bot.runtime.conversation import Conversations, Person
from bot.store import SqlStore, open_store
from bot.store.console_reads import node_reach, top_unknown
from bot.store.reach import NODE_EVENTS, REACHED
from bot.testing import ChatHarness, FakeClock

from .conftest import postgresql_at, sqlite_at

TEXTS = ("bonjour", "Bonjour", "BONJOUR !", "quoi ?", "euh", "Euh", "hmm", "zut")


async def reached_by_person(store: SqlStore) -> set[tuple[int, str, str]]:
    """(person, cohort day, "flow.node") for each person who reached it, recounted in Python from the
    events and conversations (reach.py's definition)."""
    days = {uid: str(at)[:10] for uid, at in await store.fetch_all(
        "SELECT user_id, created_at FROM users")}  # fmt: skip
    names = ", ".join("?" for _ in NODE_EVENTS)
    pairs: set[tuple[int, str]] = set()
    for uid, data in await store.fetch_all(
        f"SELECT user_id, data FROM events WHERE name IN ({names})", NODE_EVENTS
    ):
        try:
            found = json.loads(data)
        except ValueError:
            continue
        node = found.get("node") if isinstance(found, dict) else None
        if node:
            pairs.add((uid, str(node)))
    for uid, flow, node in await store.fetch_all("SELECT user_id, flow, node FROM conversations"):
        if flow is not None and node is not None:
            pairs.add((uid, f"{flow}.{node}"))
    return {(uid, days[uid], node) for uid, node in pairs}


async def check(store: SqlStore) -> None:
    """Every read of the counters against its recount."""
    per_person = await reached_by_person(store)
    everyone = Counter(node for _, _, node in per_person)
    reached = dict(await store.fetch_all(REACHED[store.dialect], NODE_EVENTS))
    assert await node_reach(store.fetch_all) == dict(everyone) == reached
    days = sorted({day for _, day, _ in per_person})
    if days:
        first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
        middle = first + (last - first) / 2
        for low, high in ((first, first), (middle, None), (None, middle), (first, last)):
            want = Counter(
                node for _, day, node in per_person
                if (low is None or day >= low.isoformat())
                and (high is None or day <= high.isoformat())
            )  # fmt: skip
            assert await node_reach(store.fetch_all, low, high) == dict(want), (low, high)
    rows = await store.fetch_all("SELECT node, lang, text_key, text FROM unknown_texts")
    groups: dict[tuple[str, str, str], list[str]] = {}
    for node, lang, key, text in rows:
        groups.setdefault((node, lang, key), []).append(text)
    kept = {(k[0], k[1], k[2], min(v), len(v)) for k, v in groups.items()}
    counted = await store.fetch_all("SELECT node, lang, text_key, text, n FROM unknown_counts")
    assert set(map(tuple, counted)) == kept
    ranked = sorted(((k[0], k[1], min(v), len(v)) for k, v in groups.items()),
                    key=lambda r: (-r[3], r[0], r[2], r[1]))  # fmt: skip
    assert await top_unknown(store.fetch_all, 1000) == ranked
    assert await top_unknown(store.fetch_all, 3) == ranked[:3]
    recount = await store.unknown_texts(datetime(2000, 1, 1, tzinfo=UTC), 1000)
    assert sorted(recount) == sorted(ranked)
    for node in {r[0] for r in ranked}:
        at_node = [r for r in ranked if r[0] == node]
        assert await top_unknown(store.fetch_all, 2, node) == at_node[:2]
    assert await top_unknown(store.fetch_all, 5, "nowhere.none") == []


async def test_the_counters_follow_a_random_history(any_store: SqlStore, mini: DialogSet) -> None:
    store, rng, clock = any_store, random.Random(18), FakeClock()
    conversations = Conversations(mini, store, "fr")
    people: dict[int, ChatHarness] = {}
    forgotten = pruned = 0
    for step in range(260):
        roll = rng.random()
        if roll < 0.1 or len(people) < 3:
            uid = 100 + step
            h = ChatHarness(conversations, Person(uid, f"P{uid}", rng.choice(("fr", "en"))), clock)
            people[uid] = h
            await h.send("/start")
            continue
        h = people[rng.choice(list(people))]
        if roll < 0.55 and h.keyboard:
            await h.press(rng.randrange(1, len(h.keyboard) + 1))
        elif roll < 0.75:
            await h.send(rng.choice(TEXTS))
        elif roll < 0.8:
            await h.send(rng.choice(("/restart", "/stop", "info", "/progress")))
        elif roll < 0.83:
            await store.forget(h.person.user_id)
            del people[h.person.user_id]
            forgotten += 1
        elif roll < 0.86:
            (before,) = await store.fetch_all("SELECT count(*) FROM unknown_texts")
            await store.prune(clock.now())
            (after,) = await store.fetch_all("SELECT count(*) FROM unknown_texts")
            pruned += before[0] - after[0]
        else:
            await h.advance(timedelta(hours=rng.choice((1, 20, 49, 80, 200))))
        if step % 20 == 0:
            await check(store)
    await check(store)
    assert forgotten and pruned, "what this seed played: erasures, and pruned texts"
    assert await store.fetch_all("SELECT count(*) FROM reached_nodes WHERE acted = 0")


async def test_every_node_event_counts_and_no_other(any_store: SqlStore) -> None:
    """The names in the triggers are reach.py's NODE_EVENTS; data that is not an object,
    not JSON, or names no node counts nothing; /forget takes the person out."""
    store, now = any_store, "2026-03-02T09:00:00+00:00"
    await store.write(("INSERT INTO users (user_id, lang, created_at, updated_at) "
                       "VALUES (1, 'fr', ?, ?)", [(now, now)]))  # fmt: skip
    datas = [json.dumps({"node": f"f.{name}"}) for name in NODE_EVENTS]
    rows = [(name, data) for name, data in zip(NODE_EVENTS, datas, strict=True)]
    rows += [("command", '{"node": "f.command"}'), ("press", "[1]"), ("press", "{not json}"),
             ("press", '{"node": ""}'), ("press", '{"other": 1}'), ("press", datas[0])]  # fmt: skip
    await store.write(("INSERT INTO events (user_id, at, name, data) VALUES (1, ?, ?, ?)",
                       [(now, name, data) for name, data in rows]))  # fmt: skip
    want = {f"f.{name}": 1 for name in NODE_EVENTS}
    assert await node_reach(store.fetch_all) == want
    assert await node_reach(store.fetch_all, date(2026, 3, 3)) == {}
    await store.forget(1)
    assert await node_reach(store.fetch_all) == {}
    assert await store.fetch_all("SELECT * FROM funnel_reach") == []


# -- the migration over a history already there -------------------------------------------
MS = 1_767_607_200_000  # 5 January 2026, 10:00 UTC
DAY1, DAY2 = "2026-01-05T10:00:00+00:00", "2026-01-06T23:59:59.999+00:00"
HISTORY: list[tuple[str, list[tuple[Any, ...]]]] = [
    ("INSERT INTO users (user_id, lang, created_at, updated_at) VALUES (?, ?, ?, ?)",
     [(1, "fr", DAY1, DAY1), (2, "en", DAY1, DAY1), (3, "fr", DAY2, DAY2)]),
    ("INSERT INTO conversations (user_id, flow, node) VALUES (?, ?, ?)",
     [(1, "informer", "intro"), (2, None, None), (3, "welcome", "menu")]),
    ("INSERT INTO events (user_id, at, name, data) VALUES (?, ?, ?, ?)",
     [(1, DAY1, "press", '{"node": "welcome.menu", "button": "inform"}'),
      (1, DAY1, "text_heard", '{"node": "welcome.menu"}'),
      (1, DAY1, "fallback", '{"node": "informer.intro"}'),
      (2, DAY1, "press", '{"node": "welcome.menu"}'), (2, DAY1, "command", '{"node": "x.y"}'),
      (3, DAY2, "meant", '{"node": "informer.intro"}'), (3, DAY2, "answer", "not json")]),
    ("INSERT INTO unknown_texts (user_id, node, lang, text, text_key, at_ms) VALUES (?, ?, ?, ?, ?, ?)",
     [(1, "welcome.menu", "fr", "Bonjour", "bonjour", MS + 1), (2, "welcome.menu", "fr", "bonjour", "bonjour", MS + 2),
      (3, "welcome.menu", "fr", "Bonjour", "bonjour", MS + 3), (3, "informer.intro", "fr", "zut", "zut", MS + 4)]),
]  # fmt: skip
REACH = {"welcome.menu": 3, "informer.intro": 2}


async def migrated_check(store: SqlStore) -> None:
    assert await node_reach(store.fetch_all) == REACH
    later = {"welcome.menu": 1, "informer.intro": 1}  # person 3, who came on the 6th
    assert await node_reach(store.fetch_all, date(2026, 1, 6)) == later
    assert await top_unknown(store.fetch_all, 5) == [
        ("welcome.menu", "fr", "Bonjour", 3), ("informer.intro", "fr", "zut", 1)]  # fmt: skip
    await check(store)
    await store.forget(1)  # the triggers go on from the backfilled rows
    assert await node_reach(store.fetch_all) == {"welcome.menu": 2, "informer.intro": 1}
    assert await top_unknown(store.fetch_all, 5) == [
        ("welcome.menu", "fr", "Bonjour", 2), ("informer.intro", "fr", "zut", 1)]  # fmt: skip
    await check(store)


async def test_the_sqlite_migration_counts_the_history(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite_at(path, 8)
    for sql, rows in HISTORY:
        db.executemany(sql, rows)
    db.commit()
    db.close()
    store = await open_store(path)
    try:
        await migrated_check(store)
    finally:
        await store.close()


async def test_the_postgresql_migration_counts_the_history(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as db:
        postgresql_at(db, 1)
        for sql, rows in HISTORY:
            db.cursor().executemany(sql.replace("?", "%s"), rows)
    store = await open_store(pg_url)
    try:
        await migrated_check(store)
    finally:
        await store.close()

"""Issue 15: the funnel at scale, and what its counters cost a turn.

(a) `read_funnel` for the last 30 days (what `vie-coach stats` and /stats read), median
of many reads, on a store of 1,000 people and on one of 100,000, built in the same run
with the same history: people arrived over the last 60 days (half of them in the
window), 70 % French, 30 % invited, each reached a random number of the bundled
dialogs' milestones (and the stages that come with them), stands at one of their nodes
(a few nodes hold most people), was last active some days after starting, got a few
reminders. The history is written to the base tables, so that the counters are built
by the migration's triggers. Target: 100k time / 1k time <= 3. The splits (--by) are
timed once each at 100k, for information.

(b) The turn: the harness's events per second (engine, render, one SQLite statement per
turn) with the funnel triggers, and on the same store with them dropped, alternated.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import LANGS, ROOT
from bench.throughput import script
from bot.app.bootstrap import standard_features
from bot.core.dialogset import DialogSet
from bot.core.events import Event
from bot.dialogs.load import load_dialogs
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore, open_store
from bot.store.funnel import BY, read_funnel
from bot.store.opening import migrations

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
DAYS = 60  # of history
READS = 60
SINCE = timedelta(days=30)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


async def populate(store: SqliteStore, people: int, dialogs: DialogSet) -> None:
    rng = random.Random(people)
    nodes = [f"{f.id}.{n}" for f in dialogs.flows.values() for n in f.nodes]
    rng.shuffle(nodes)
    weights = [1 / (rank + 1) for rank in range(len(nodes))]  # a few nodes hold most people
    milestones = sorted(dialogs.milestone_stage.items(), key=lambda m: m[1])
    users, referrals, conversations, reached, stages, events = [], [], [], [], [], []
    for uid in range(1, people + 1):
        start = NOW - timedelta(seconds=rng.uniform(0, DAYS * 86400))
        went = min(rng.expovariate(1 / 3), (NOW - start).days)  # days active
        last = start + timedelta(days=went, seconds=rng.uniform(0, 3600))
        last = min(last, NOW)
        reminders = 0 if rng.random() < 0.05 else 1
        users.append((uid, f"P{uid}", "fr" if rng.random() < 0.7 else "en", reminders,
                      _iso(start), _iso(last), _iso(last), int(rng.random() < 0.1)))  # fmt: skip
        if uid > 10 and rng.random() < 0.3:
            advocate = rng.randrange(1, uid)
            referrals.append((uid, advocate, f"p{advocate}", json.dumps([advocate]), 0))
        node = rng.choices(nodes, weights)[0].split(".", 1)
        conversations.append((uid, node[0], node[1]))
        count = min(len(milestones), int(rng.expovariate(1 / 4)))
        span = (last - start) / max(1, count)
        done = set()
        for i, (name, stage) in enumerate(milestones[:count]):
            at = start + span * (i + 1)
            reached.append((uid, name, stage, _iso(at)))
            if i + 1 == count or milestones[i + 1][1] != stage:
                done.add(stage)
                stages.append((uid, stage, _iso(at)))
        for k in range(rng.choice((0, 0, 1, 2, 3))):
            events.append((uid, _iso(start + timedelta(days=2 * (k + 1))), "nudge_sent", "{}"))
    db = store.connection
    await db.execute("BEGIN")
    await db.executemany(
        "INSERT INTO users (user_id, first_name, lang, reminders, created_at, updated_at, "
        "active_at, public) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        users,
    )
    await db.executemany(
        "INSERT INTO referrals (friend_id, advocate_id, payload, path, joined_ms) "
        "VALUES (?, ?, ?, ?, ?)",
        referrals,
    )
    await db.executemany(
        "INSERT INTO conversations (user_id, flow, node) VALUES (?, ?, ?)", conversations
    )
    await db.executemany(
        "INSERT INTO milestones (user_id, milestone, stage, reached_at) VALUES (?, ?, ?, ?)",
        reached,
    )
    await db.executemany(
        "INSERT INTO stages_completed (user_id, stage, completed_at) VALUES (?, ?, ?)", stages
    )
    await db.executemany("INSERT INTO events (user_id, at, name, data) VALUES (?, ?, ?, ?)", events)
    await db.execute("COMMIT")
    await db.execute("ANALYZE")


async def reads(people: int, dialogs: DialogSet) -> tuple[list[float], dict[str, float], int]:
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(Path(tmp) / "bench.db")
        try:
            began = time.perf_counter()
            await populate(store, people, dialogs)
            built = time.perf_counter() - began
            (rows,) = await store.fetch_all(
                "SELECT (SELECT count(*) FROM funnel_counts) + (SELECT count(*) FROM "
                "funnel_spots) + (SELECT count(*) FROM funnel_advocates)"
            )
            print(f"  {people:>7,} people: history and counters written in {built:.1f} s "
                  f"({rows[0]:,} counter rows)")  # fmt: skip
            times = []
            funnel = None
            for _ in range(READS):
                began = time.perf_counter()
                funnel = await read_funnel(store.fetch_all, NOW, SINCE)
                times.append(time.perf_counter() - began)
            assert funnel is not None
            splits = {}
            for by in BY:
                began = time.perf_counter()
                await read_funnel(store.fetch_all, NOW, SINCE, by)
                splits[by] = time.perf_counter() - began
            return times, splits, funnel.total.started
        finally:
            await store.close()


# the migration's triggers on the base tables (not those of its write-only views)
FUNNEL_TRIGGERS = """SELECT name FROM sqlite_master WHERE type = 'trigger'
                     AND name LIKE 'funnel%' AND tbl_name NOT LIKE 'funnel%'"""
Writes = list[tuple[tuple[str, list[Any]], ...]]


async def record(dialogs: DialogSet, scripts: list[list[Event]], folder: Path) -> Writes:
    """Play the people's events through the harness path and keep every write the store
    committed (the turns' single statements, the sent replies), in order."""
    store = await open_store(folder / "record.db")
    seen: Writes = []
    real = store.write

    async def write(*statements: tuple[str, list[Any]]) -> int:
        seen.append(statements)
        return await real(*statements)

    store.write = write  # type: ignore[method-assign]
    conversations = Conversations(dialogs, store, "fr")
    for uid, events in enumerate(scripts):
        who = Person(uid, f"P{uid}", LANGS[uid % 2])
        for event in events:
            await conversations.handle(who, event, NOW)
    await store.close()
    return seen


def replay(writes: Writes, folder: Path, triggers: bool, batch: int = 20) -> float:
    """CPU seconds per write (the process's time, so that other programs on the machine
    count less), the writes committed `batch` at a time as the store's group commit
    does, on a fresh file with the store's settings, the funnel triggers kept or dropped."""
    db = sqlite3.connect(folder / f"replay-{time.monotonic_ns()}.db", isolation_level=None)
    for pragma in ("journal_mode = WAL", "foreign_keys = ON", "secure_delete = ON",
                   "synchronous = NORMAL", "cache_size = -16384"):  # fmt: skip
        db.execute(f"PRAGMA {pragma}")
    for version, sql in migrations():
        db.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
    if not triggers:
        for (name,) in db.execute(FUNNEL_TRIGGERS).fetchall():
            db.execute(f"DROP TRIGGER {name}")
    began = time.process_time()
    for start in range(0, len(writes), batch):
        db.execute("BEGIN IMMEDIATE")
        for statements in writes[start : start + batch]:
            for sql, rows in statements:
                db.executemany(sql, rows)
        db.execute("COMMIT")
    elapsed = time.process_time() - began
    db.close()
    return elapsed / len(writes)


def run() -> None:
    dialogs = load_dialogs(ROOT / "dialogs", LANGS, "welcome", standard_features())
    print(f"\n[funnel] read_funnel over {SINCE.days} days, median of {READS} (ms); "
          "target: 100k/1k <= 3")  # fmt: skip
    small, _, small_n = asyncio.run(reads(1_000, dialogs))
    large, splits, large_n = asyncio.run(reads(100_000, dialogs))
    a, b = statistics.median(small), statistics.median(large)
    verdict = "ok" if b / a <= 3 else "MISSED"
    print(f"  30-day funnel   1k people ({small_n:,} in the window) {a * 1000:6.2f} ms   "
          f"100k ({large_n:,}) {b * 1000:6.2f} ms   ratio {b / a:.2f}  {verdict}")  # fmt: skip
    print("  split at 100k (one read each): "
          + ", ".join(f"--by {by} {t * 1000:.0f} ms" for by, t in splits.items()))  # fmt: skip
    print("[funnel] the turn's statement with the funnel triggers and without: the writes "
          "of 300 people x 20 events replayed, CPU per write, best of 7")  # fmt: skip
    scripts = script(dialogs, 1)[:300]
    with tempfile.TemporaryDirectory() as tmp:
        writes = asyncio.run(record(dialogs, scripts, Path(tmp)))
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(7):
            for on in (False, True):
                times[on].append(replay(writes, Path(tmp), on))
    without, with_ = min(times[False]) * 1e6, min(times[True]) * 1e6
    print(f"  {len(writes):,} writes: without {without:6.1f} µs   with {with_:6.1f} µs   "
          f"cost {with_ - without:+.1f} µs per write ({(with_ / without - 1) * 100:+.1f} %)")  # fmt: skip


if __name__ == "__main__":
    run()

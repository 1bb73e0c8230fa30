"""Issue 5: advocates at scale.
With 100,000 users in the store, an advocate with 10,000 friends: `/friends` (first page,
and a page deep in the list) and `/helped`, each timed through the whole turn
(lookup, engine, save) and timed again on a store of 1,000 users (an advocate with 500
friends) in the same run. Target: 100,000-user time / 1,000-user time <= 3 (indexed
queries, no full scans).
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import LANGS, ROOT
from bot.app.bootstrap import standard_features
from bot.core.events import Command, Press
from bot.dialogs.load import load_dialogs
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore, open_store

ADVOCATE = 1
RUNS = 300
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


async def populate(store: SqliteStore, users: int, friends: int) -> None:
    """`users` people; the first advocate has `friends` friends, the rest form a random
    referral tree; a fifth of everyone finished Eduquer, most reached a few milestones."""
    rng = random.Random(users)
    db = store.connection
    iso = NOW.isoformat()
    await db.execute("BEGIN")
    await db.executemany(
        "INSERT INTO users (user_id, first_name, lang, created_at, updated_at, active_at) "
        "VALUES (?, ?, 'fr', ?, ?, ?)",
        [(uid, f"P{uid}", iso, iso, iso) for uid in range(1, users + 1)],
    )
    paths: dict[int, list[int]] = {}
    rows = []
    for uid in range(2, users + 1):
        if uid <= friends + 1:
            advocate = ADVOCATE
        elif rng.random() < 0.6:
            advocate = rng.randrange(2, uid)
        else:
            continue
        path = [advocate, *paths.get(advocate, [])][:10]
        paths[uid] = path
        rows.append((uid, advocate, f"p{advocate}", json.dumps(path), NOW_MS - uid * 1000))
    await db.executemany(
        "INSERT INTO referrals (friend_id, advocate_id, payload, path, joined_ms) "
        "VALUES (?, ?, ?, ?, ?)",
        rows,
    )
    milestones = [("i_hidden", "I"), ("i_privacy", "I"), ("li_installed", "E")]
    await db.executemany(
        "INSERT INTO milestones (user_id, milestone, stage, reached_at) VALUES (?, ?, ?, ?)",
        [(uid, m, stage, iso) for uid in range(2, users + 1)
         for m, stage in milestones[: rng.randrange(0, 4)]],
    )  # fmt: skip
    await db.executemany(
        "INSERT INTO stages_completed (user_id, stage, completed_at) VALUES (?, 'E', ?)",
        [(uid, iso) for uid in range(2, users + 1) if rng.random() < 0.2],
    )
    await db.execute("COMMIT")
    await db.execute("ANALYZE")


async def timed(conversations: Conversations, event_of: list[Command | Press]) -> list[float]:
    person = Person(ADVOCATE, "Paul", "fr")
    times = []
    for i in range(RUNS):
        event = event_of[i % len(event_of)]
        start = time.perf_counter()
        await conversations.handle(person, event, NOW)
        times.append(time.perf_counter() - start)
    return times


async def measure(users: int, friends: int) -> dict[str, list[float]]:
    dialogs = load_dialogs(ROOT / "dialogs", LANGS, "welcome", standard_features())
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(Path(tmp) / "bench.db")
        try:
            started = time.perf_counter()
            await populate(store, users, friends)
            print(f"  {users:>7,} users, advocate with {friends:,} friends: "
                  f"built in {time.perf_counter() - started:.1f} s")  # fmt: skip
            conversations = Conversations(dialogs, store, "fr")
            await conversations.handle(Person(ADVOCATE, "Paul", "fr"), Command("help"), NOW)
            # a cursor near the end of the list: the page after the 40th-oldest friend
            async with store.connection.execute(
                "SELECT joined_ms, friend_id FROM referrals WHERE advocate_id = ? "
                "ORDER BY joined_ms, friend_id LIMIT 1 OFFSET 40", (ADVOCATE,)
            ) as cur:  # fmt: skip
                ms, friend = await cur.fetchone()  # type: ignore[misc]
            deep = Press(f"!friends:n99_{ms}_{friend}")
            return {
                "/friends": await timed(conversations, [Command("friends")]),
                "/friends deep page": await timed(conversations, [deep]),
                "/helped": await timed(conversations, [Command("helped")]),
            }
        finally:
            await store.close()


def run() -> None:
    print("\n[advocates] /friends and /helped, whole turns, median of "
          f"{RUNS} (ms); target: 100k/1k <= 3")  # fmt: skip
    small = asyncio.run(measure(1_000, 500))
    large = asyncio.run(measure(100_000, 10_000))
    for name in small:
        a, b = statistics.median(small[name]), statistics.median(large[name])
        p95 = statistics.quantiles(large[name], n=20)[-1]
        verdict = "ok" if b / a <= 3 else "MISSED"
        print(f"  {name:<20} 1k users {a * 1000:6.2f} ms   100k users {b * 1000:6.2f} ms "
              f"(p95 {p95 * 1000:.2f})   ratio {b / a:.2f}  {verdict}")  # fmt: skip


if __name__ == "__main__":
    run()

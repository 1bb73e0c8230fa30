"""Issue 18: every page of the operators' console at 100,000 people against 1,000.

Two stores built in the same run with the same history (`bench.funnel.populate`: arrivals
over 60 days, milestones, stages, where people stand, reminders), to which each person
adds what the console's other pages read: five button presses at nodes (the map's
"reached"), texts not understood (most from a vocabulary of 400 phrases, one in ten
their own words: the rows grow with the people), an A/B experiment's exposures with
conversions, and one broadcast that reaches everyone (half sent). Everything is written
to the base tables, so that the counters are the triggers' own.

Each page is served by the console's real aiohttp application on 127.0.0.1, logged in
through a one-time link, and fetched over HTTP: the median of many requests, after one
to warm up (the map's picture is drawn by `dot` once per set of figures, then kept).
Target: for every page, 100k time / 1k time <= 3.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import aiohttp

from bench.common import LANGS, ROOT
from bench.funnel import NOW, populate
from bot.app.bootstrap import standard_features
from bot.app.console_serving import Drawer
from bot.app.graph_command import dot_available
from bot.console.access import Access, derived_key
from bot.console.desk import Desk
from bot.console.server import console_app
from bot.core.dialogset import DialogSet
from bot.dialogs.load import load_dialogs
from bot.store import SqliteStore, open_store
from bot.store.console_links import ConsoleLinks
from bot.store.queues import to_ms

REQUESTS = 25
ADMIN = 1
PAGES = ("/", "/?by=advocate", "/map", "/node/{busy}", "/unknown", "/experiments",
         "/broadcasts", "/versions")  # fmt: skip
VOCABULARY = 400


async def more_history(store: SqliteStore, people: int, dialogs: DialogSet) -> str:
    """Presses, texts not understood, exposures, a broadcast; the busiest node."""
    rng = random.Random(people + 1)
    nodes = [f"{f.id}.{n}" for f in dialogs.flows.values() for n in f.nodes]
    weights = [1 / (rank + 1) for rank in range(len(nodes))]
    at = NOW.isoformat()
    events, unknown = [], []
    for uid in range(1, people + 1):
        for node in rng.choices(nodes, weights, k=5):
            events.append((uid, at, "press", json.dumps({"node": node})))
        if rng.random() < 0.5:
            node = rng.choices(nodes, weights)[0]
            if rng.random() < 0.1:
                text = f"mes propres mots {uid}"
            else:
                text = f"phrase {int(rng.paretovariate(1.2)) % VOCABULARY}"
            unknown.append((uid, node, "fr", text, text, to_ms(NOW) - rng.randrange(86_400_000)))
        if rng.random() < 0.6:
            arm = rng.choice(("a", "b"))
            events.append((uid, at, "exposure", json.dumps(
                {"experiment": "welcome_text", "arm": arm, "outcome": "stage:V"})))  # fmt: skip
    db = store.connection
    await db.execute("BEGIN")
    await db.executemany("INSERT INTO events (user_id, at, name, data) VALUES (?, ?, ?, ?)", events)
    await db.executemany(
        "INSERT INTO unknown_texts (user_id, node, lang, text, text_key, at_ms) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        unknown,
    )
    await db.execute("COMMIT")
    started = await store.broadcasts.start(ADMIN, {"fr": "Bonjour", "en": "Hello"}, "fr", 10, NOW)
    assert started.job is not None
    await db.execute(
        "UPDATE broadcast_recipients SET state = 'sent' WHERE broadcast_id = ? AND user_id % 2 = 0",
        (started.job.id,),
    )
    await db.commit()
    await store.versions.served(dialogs.version, {"welcome.yaml": "..."}, "start", NOW)
    await db.execute("ANALYZE")
    await db.commit()
    here = await store.fetch_all(
        "SELECT flow || '.' || node, count(*) AS n FROM conversations GROUP BY 1 ORDER BY n DESC"
    )
    return str(here[0][0])


async def timings(people: int, dialogs: DialogSet) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(Path(tmp) / "bench.db")
        try:
            began = time.perf_counter()
            await populate(store, people, dialogs)
            busy = await more_history(store, people, dialogs)
            print(f"  {people:>7,} people: history written in {time.perf_counter() - began:.1f} s")
            return await _fetch(store, dialogs, busy)
        finally:
            await store.close()


async def _fetch(store: SqliteStore, dialogs: DialogSet, busy: str) -> dict[str, float]:
    access = Access(derived_key("", "0:bench"), frozenset({ADMIN}))
    links = ConsoleLinks(store.write)
    desk = Desk(
        store, lambda: dialogs, access, links, lambda: NOW, "fr", timedelta(days=30), False,
        draw=Drawer() if dot_available() else None,
    )  # fmt: skip
    runner = aiohttp.web.AppRunner(console_app(desk), access_log=None)
    await runner.setup()
    await aiohttp.web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    token, link = access.new_link(ADMIN, NOW)
    await links.keep(link.nonce_hash, ADMIN, link.expires)
    out = {}
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as web:
            async with web.get(f"{base}/login/{token}") as response:
                assert response.status == 200, response.status
            for page in PAGES:
                url = base + page.format(busy=busy)
                times = []
                for i in range(REQUESTS + 1):
                    began = time.perf_counter()
                    async with web.get(url) as response:
                        assert response.status == 200, (page, response.status)
                        await response.read()
                    if i:  # the first warms up
                        times.append(time.perf_counter() - began)
                out[page] = statistics.median(times)
    finally:
        await runner.cleanup()
    return out


def run() -> None:
    dialogs = load_dialogs(ROOT / "dialogs", LANGS, "welcome", standard_features())
    print(f"\n[console] each page over HTTP, median of {REQUESTS} requests (ms); "
          f"target: 100k/1k <= 3; map picture: {'dot' if dot_available() else 'none'}")  # fmt: skip
    small = asyncio.run(timings(1_000, dialogs))
    large = asyncio.run(timings(100_000, dialogs))
    for page in PAGES:
        a, b = small[page], large[page]
        verdict = "ok" if b / a <= 3 else "MISSED"
        print(f"  {page:<16} 1k {a * 1000:7.2f} ms   100k {b * 1000:7.2f} ms   "
              f"ratio {b / a:5.2f}  {verdict}")  # fmt: skip


if __name__ == "__main__":
    run()

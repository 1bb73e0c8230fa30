"""A crash at any point loses at most the event being processed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .conftest import MINI, ROOT

PROGRAM = """
import asyncio, sys
from bot.runtime.conversation import Conversations, Person
from bot.app.bootstrap import standard_features
from bot.dialogs.load import load_dialogs
from bot.store import open_store
from bot.testing import ChatHarness, FakeClock

async def main():
    store = await open_store(sys.argv[2])
    h = ChatHarness(Conversations(load_dialogs(sys.argv[1], ("fr", "en"), "welcome", standard_features()), store, "fr"),
                    Person(1, "Zoé", "fr"), FakeClock())
    await h.send("/start")
    n = 0
    while True:  # walk back and forth until killed
        for label in ("M'informer", "Retour"):
            await h.press(label)
            n += 1
            print(n, flush=True)

asyncio.run(main())
"""


def killed_after(program: str, db: Path, enough: Callable[[list[str]], bool]) -> list[str]:
    """Run `program` on the mini dialogs and `db`, read its lines until `enough`, SIGKILL it;
    every line it printed before the kill."""
    seen: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-c", program, str(MINI), str(db)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line.strip())
            if enough(seen):
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # what it printed before dying but we had not read yet (a slow reader on a busy
        # machine can be many lines behind): it happened, so it counts
        seen.extend(line.strip() for line in proc.stdout.read().splitlines() if line.strip())
    return seen


def test_sigkill_mid_conversation_loses_at_most_the_event_in_flight(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    lines = killed_after(PROGRAM, db, lambda seen: int(seen[-1]) >= 150)
    acknowledged = max(int(line) for line in lines if line.isdigit())
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        presses = conn.execute("SELECT count(*) FROM events WHERE name = 'press'").fetchone()[0]
        node = conn.execute("SELECT node FROM conversations WHERE user_id = 1").fetchone()[0]
    # every acknowledged press is stored; at most one more (the one in flight) may be
    assert acknowledged <= presses <= acknowledged + 1
    assert node == ("intro" if presses % 2 else "menu"), "the state matches the last stored event"


DISPATCH = """
import asyncio, sys
from datetime import UTC, datetime, timedelta
from bot.runtime.conversation import Conversations, Person
from bot.app.bootstrap import standard_features
from bot.dialogs.load import load_dialogs
from bot.runtime.dispatcher import NudgeDispatcher
from bot.runtime.sender import Outcome, Sender
from bot.store import open_store
from bot.testing import ChatHarness, FakeClock

async def main():
    clock = FakeClock(datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    store = await open_store(sys.argv[2])
    conversations = Conversations(load_dialogs(sys.argv[1], ("fr", "en"), "welcome", standard_features()), store, "fr")
    for uid in range(1, 201):  # 200 people, each with a follow-up due in two days
        h = ChatHarness(conversations, Person(uid, f"P{uid}", "fr"), clock)
        await h.send("/start")
        await h.press("M'informer")
    print("READY", flush=True)
    clock.advance(timedelta(days=2, minutes=1))

    stuck = asyncio.Event()  # never set: after 50 sends, deliveries hang until the kill

    class Printing:  # Telegram, as far as this test can tell
        sent = 0

        async def deliver(self, row):
            if self.sent >= 50:
                await stuck.wait()  # so the kill always finds nudges in flight, however slow
            self.sent += 1
            await asyncio.sleep(0.002)
            print("SENT", row.chat_id, flush=True)
            return Outcome.SENT

    sender = Sender(store.outbox, Printing(), clock=clock.now)
    conversations.queued = sender.wake
    running = asyncio.create_task(sender.run())
    await NudgeDispatcher(conversations, store, clock.now, batch=20).drain()
    await running

asyncio.run(main())
"""


async def test_sigkill_mid_dispatch_loses_no_nudge(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from bot.app.bootstrap import standard_features
    from bot.dialogs.load import load_dialogs
    from bot.runtime.conversation import Conversations
    from bot.runtime.dispatcher import NudgeDispatcher
    from bot.runtime.sender import Outcome, Sender
    from bot.store import open_store
    from bot.store.queues import Queued

    db = tmp_path / "dispatch.db"
    sent = killed_after(DISPATCH, db, lambda seen: sum(s.startswith("SENT") for s in seen) == 50)
    first = [int(line.split()[1]) for line in sent if line.startswith("SENT")]
    assert len(first) == 50
    # the bot starts again, a few minutes later (after the in-flight lease of 2 minutes)
    store = await open_store(db)
    now = datetime(2026, 1, 7, 10, 10, tzinfo=UTC)
    second: list[int] = []

    class Recording:
        async def deliver(self, row: Queued) -> Outcome:
            second.append(row.chat_id)
            return Outcome.SENT

    conversations = Conversations(
        load_dialogs(MINI, ("fr", "en"), "welcome", standard_features()), store, "fr"
    )
    dispatcher = NudgeDispatcher(conversations, store, lambda: now, batch=20)
    await dispatcher.recover()  # nudges still in flight at the crash are pending again
    await dispatcher.drain()
    await Sender(store.outbox, Recording(), clock=lambda: now).flush()
    await store.close()
    assert set(first) | set(second) == set(range(1, 201)), "no nudge lost"
    twice = set(first) & set(second)
    assert len(twice) <= 20, f"only what was in flight may repeat, not {len(twice)}"
    assert len(second) == len(set(second)), "the restarted dispatcher sends each once"

"""A crash at any point loses at most the event being processed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from .conftest import MINI, ROOT

PROGRAM = """
import asyncio, sys
from bot.conversation import Conversations, Person
from bot.dialogs.loader import load_dialogs
from bot.store import open_store
from bot.testing import ChatHarness, FakeClock

async def main():
    store = await open_store(sys.argv[2])
    h = ChatHarness(Conversations(load_dialogs(sys.argv[1], ("fr", "en"), "welcome"), store, "fr"),
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


def test_sigkill_mid_conversation_loses_at_most_the_event_in_flight(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    acknowledged = 0
    with subprocess.Popen(
        [sys.executable, "-c", PROGRAM, str(MINI), str(db)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            acknowledged = int(line)
            if acknowledged >= 150:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        presses = conn.execute("SELECT count(*) FROM events WHERE name = 'press'").fetchone()[0]
        node = conn.execute("SELECT node FROM conversations WHERE user_id = 1").fetchone()[0]
    # every acknowledged press is stored; at most one more (the one in flight) may be
    assert acknowledged <= presses <= acknowledged + 1
    assert node == ("intro" if presses % 2 else "menu"), "the state matches the last stored event"

"""The done-when test of /broadcast: 2,000 people known to the store, `vie-coach run` in
a process of its own against the Bot API emulator (served over HTTP, its flood limits
enforced), an operator who writes and confirms a broadcast through it, kill -9 in the
middle of the burst, a restart on the same database: everyone receives it exactly once,
Telegram never answers 429, and /broadcast status says it is done.

Exactly once across kill -9 is only possible for sends whose fate the bot knew: a message
Telegram accepted whose answer had not come back (or not been recorded) when the process
died cannot be told from one Telegram never got (docs/broadcast.md). So the kill comes
while the emulator holds every send unanswered (`hold`), once the bot has recorded each
send that was answered; the held ones, their connection gone, are never performed."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.state import new_state
from bot.store import open_store
from bot.testing.botapi import BotApiEmulator, FakeUser, serve

from .conftest import MINI
from .processes import until, vie_coach

pytestmark = pytest.mark.timeout(120)
PEOPLE = 2000
OPERATOR = FakeUser(99, "Opé", "fr")
RATE = 200  # what the emulator allows a second, for the whole bot (and 2 per chat)
TEXTS = {"fr": "Nouvelles de VIE Coach pour {{ user.first_name }} !",
         "en": "News from VIE Coach for {{ user.first_name }}!"}  # fmt: skip
SHOWN = ("Nouvelles de VIE Coach pour ", "News from VIE Coach for ")


def config(tmp_path: Path, base_url: str) -> Path:
    """The bot under the emulator's limits, with a margin (over loopback, sends paced by
    the bot can still arrive bunched), and broadcasts well under its own pace."""
    path = tmp_path / "vie.toml"
    path.write_text(
        f'[bot]\ndialogs = "{MINI}"\nwatch_dialogs = false\n'
        f'[store]\npath = "{tmp_path / "broadcast.db"}"\n'
        f'[telegram]\nbase_url = "{base_url}"\nadmins = [{OPERATOR.id}]\n'
        "overall_per_second = 180\nper_chat_per_second = 1\nper_chat_burst = 1\n"
        "[broadcast]\nper_second = 150\n"
        '[logging]\nlevel = "WARNING"\n[ops]\nport = 0\n',
        encoding="utf-8",
    )
    return path


async def seed(db: Path) -> list[FakeUser]:
    """2,000 people who started the bot (half in English), written with the store's API
    before the bot starts."""
    people = [FakeUser(10_000 + i, f"P{i}", "en" if i % 2 else "fr") for i in range(PEOPLE)]
    now = datetime.now(UTC)
    store = await open_store(db)
    try:
        await asyncio.gather(*(
            store.save(None, replace(new_state(p.id, p.language_code or "fr", now, p.first_name),
                                     flow="welcome", node="menu"), (), {})
            for p in people
        ))  # fmt: skip
    finally:
        await store.close()
    return people


def received(emulator: BotApiEmulator, user_id: int) -> list[str]:
    return [m["text"] for m in emulator.sent_to(user_id) if m["text"].startswith(SHOWN)]


def delivered(emulator: BotApiEmulator) -> int:
    """Broadcast messages Telegram performed (the emulator recorded them)."""
    return sum(len(received(emulator, chat)) for chat in list(emulator.messages))


def recorded(db: Path) -> int:
    """Recipients the bot has recorded as sent (their outbox row deleted)."""
    with sqlite3.connect(db) as connection:
        query = "SELECT count(*) FROM broadcast_recipients WHERE state = 'sent'"
        return int(connection.execute(query).fetchone()[0])


async def say(emulator: BotApiEmulator, text: str) -> str:
    count = len(emulator.sent_to(OPERATOR.id))
    emulator.user_message(OPERATOR, text)
    await until(lambda: len(emulator.sent_to(OPERATOR.id)) > count, 20, f"an answer to {text}")
    return str(emulator.sent_to(OPERATOR.id)[-1]["text"])


async def test_kill_9_mid_broadcast_then_everyone_receives_it_exactly_once(
    tmp_path: Path,
) -> None:
    db = tmp_path / "broadcast.db"
    people = await seed(db)
    emulator = BotApiEmulator()
    emulator.limit(global_per_second=RATE, per_chat_per_second=2)
    everyone = [OPERATOR, *people]
    async with serve(emulator) as base_url:
        cfg = config(tmp_path, base_url)
        async with vie_coach("run", "--config", str(cfg)) as (process, _):
            await until(lambda: bool(emulator.calls_to("getUpdates")), 30, "the bot polling")
            await say(emulator, "/start")
            assert (await say(emulator, "/broadcast")).startswith("Texte en fr")
            assert (await say(emulator, TEXTS["fr"])).startswith("Et en en")
            preview = await say(emulator, TEXTS["en"])
            assert f"{PEOPLE + 1} personnes" in preview
            menu = emulator.last_with_buttons(OPERATOR.id)
            emulator.user_press(OPERATOR, menu, dict(emulator.buttons(menu))["Envoyer (2001)"])
            await until(lambda: delivered(emulator) >= 700, 30, "the burst under way")
            emulator.hold("sendMessage")
            # every send Telegram answered is recorded; those held were never performed
            await until(lambda: recorded(db) == delivered(emulator), 10, "the answers recorded")
            process.send_signal(signal.SIGKILL)
            await process.wait()
        at_kill = delivered(emulator)
        assert 700 <= at_kill < PEOPLE, "killed in the middle of the burst"
        await until(lambda: emulator.held == 0, 10, "the held calls let go with their client")
        emulator.release()
        async with vie_coach("run", "--config", str(cfg)) as (_, lines):
            await until(lambda: delivered(emulator) >= PEOPLE + 1, 60, "everyone reached")
            for _ in range(100):  # done once the last answers are recorded
                status = await say(emulator, "/broadcast status")
                if " done " in status:
                    break
                await asyncio.sleep(0.2)
            assert "N° 1 done depuis" in status and "2001/2001 reçus, 0 en attente" in status
    for person in everyone:
        texts = received(emulator, person.id)
        assert len(texts) == 1, f"{person.id} received it {len(texts)} times"
        assert texts[0].endswith((f"{person.first_name}\u202f!", f"{person.first_name}!"))
    assert emulator.throttled == 0, "never over Telegram's limits"
    assert not [line for line in lines if "Traceback" in line], "".join(lines[-40:])

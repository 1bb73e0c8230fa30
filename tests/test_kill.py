"""kill -9 of `vie-coach run` during a burst of 1,000 updates from 100 people, in polling
and in webhook mode: after a restart on the same database every update is answered, and
only what was in flight at the kill may be answered twice."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters.telegram.webhook import SECRET_HEADER
from bot.testing.botapi import BotApiEmulator, FakeUser, serve

from .conftest import MINI
from .conftest import WEBHOOK_SECRET as SECRET
from .processes import until, vie_coach

PEOPLE, EACH = 100, 10
pytestmark = pytest.mark.timeout(180)


def config(tmp_path: Path, base_url: str, mode: str) -> Path:
    webhook = (
        f'webhook_url = "https://example.org/hook"\nwebhook_secret = "{SECRET}"\n'
        'webhook_listen = "127.0.0.1"\nwebhook_port = 0\n'
        if mode == "webhook"
        else ""
    )
    path = tmp_path / "vie.toml"
    path.write_text(
        f'[bot]\ndialogs = "{MINI}"\n[store]\npath = "{tmp_path / "kill.db"}"\n'
        f'[telegram]\nbase_url = "{base_url}"\nmode = "{mode}"\n{webhook}'
        # the limits out of the way: the burst takes seconds, not minutes
        "overall_per_second = 5000\nper_chat_per_second = 200\nper_chat_burst = 50\n"
        '[logging]\nlevel = "INFO"\n[ops]\nport = 0\n',
        encoding="utf-8",
    )
    return path


def bot_process(cfg: Path) -> Any:
    """`vie-coach run` in its own process; its log lines are collected as they come."""
    return vie_coach("run", "--config", str(cfg))


def unsent(db: Path) -> int:
    """Rows left in the outbox: what was waiting or in flight when the bot died. Those
    sent but not yet deleted are the only ones that may go out twice."""
    with sqlite3.connect(db) as connection:
        return int(connection.execute("SELECT count(*) FROM outbox").fetchone()[0])


def replies(emulator: BotApiEmulator) -> int:
    return len(emulator.calls_to("sendMessage"))


def answered(emulator: BotApiEmulator, people: list[FakeUser]) -> bool:
    return all(len(emulator.sent_to(p.id)) >= EACH for p in people)


def burst(emulator: BotApiEmulator, people: list[FakeUser]) -> list[dict[str, object]]:
    """Each person: /start, then nine messages the bot does not understand (one reply each)."""
    updates = []
    for i in range(EACH):
        for person in people:
            updates.append(emulator.user_message(person, "/start" if i == 0 else f"euh {i}"))
    return updates


def webhook_port(lines: list[str]) -> int | None:
    for line in lines:
        if found := re.search(r"webhook mode: listening on 127\.0\.0\.1:(\d+)", line):
            return int(found.group(1))
    return None


@pytest.mark.parametrize("kill_after", [100, 450, 850])
async def test_kill_9_while_polling_loses_nothing(tmp_path: Path, kill_after: int) -> None:
    emulator = BotApiEmulator()
    people = [FakeUser(10_000 + i, f"P{i}", "fr") for i in range(PEOPLE)]
    async with serve(emulator) as base_url:
        cfg = config(tmp_path, base_url, "polling")
        async with bot_process(cfg) as (process, _):
            burst(emulator, people)
            await until(lambda: replies(emulator) >= kill_after, 60, "the first replies")
            process.send_signal(signal.SIGKILL)
            await process.wait()
        at_kill, in_flight = replies(emulator), unsent(tmp_path / "kill.db")
        async with bot_process(cfg) as (_, lines):
            await until(lambda: answered(emulator, people), 60, "every update answered")
    twice = replies(emulator) - PEOPLE * EACH
    assert 0 <= twice <= in_flight, f"{twice} answered twice, {in_flight} rows in the outbox"
    assert at_kill < PEOPLE * EACH, "killed mid-burst"
    tracebacks = [i for i, line in enumerate(lines) if "Traceback" in line]
    assert not tracebacks, "".join(lines[tracebacks[0] - 3 : tracebacks[0] + 40])


@pytest.mark.parametrize("kill_after", [100, 450, 850])
async def test_kill_9_in_webhook_mode_loses_nothing(tmp_path: Path, kill_after: int) -> None:
    emulator = BotApiEmulator()
    people = [FakeUser(20_000 + i, f"P{i}", "fr") for i in range(PEOPLE)]
    async with serve(emulator) as base_url:
        cfg = config(tmp_path, base_url, "webhook")
        pending: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        for update in burst(emulator, people):
            pending.put_nowait(update)
        url: list[str] = []  # the bot's address, new after each start

        async def telegram(session: aiohttp.ClientSession) -> None:
            """Like Telegram: deliver each update until the bot answers 200."""
            while True:
                update = await pending.get()
                while True:
                    try:
                        async with session.post(
                            url[-1], data=json.dumps(update),
                            headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
                        ) as response:  # fmt: skip
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.05)
                pending.task_done()

        async with aiohttp.ClientSession() as session:
            for round_, stop_at in enumerate((kill_after, None)):
                async with bot_process(cfg) as (process, lines):
                    await until(lambda: webhook_port(lines) is not None, 30, "the bot listening")
                    url.append(f"http://127.0.0.1:{webhook_port(lines)}/hook")
                    if round_ == 0:
                        senders = [asyncio.create_task(telegram(session)) for _ in range(40)]
                    if stop_at is not None:
                        await until(lambda: replies(emulator) >= kill_after, 60, "first replies")
                        process.send_signal(signal.SIGKILL)
                        await process.wait()
                        at_kill, in_flight = replies(emulator), unsent(tmp_path / "kill.db")
                    else:
                        await until(lambda: answered(emulator, people), 60, "all answered")
            for task in senders:
                task.cancel()
            await asyncio.gather(*senders, return_exceptions=True)
    twice = replies(emulator) - PEOPLE * EACH
    assert 0 <= twice <= in_flight, f"{twice} answered twice, {in_flight} rows in the outbox"
    assert at_kill < PEOPLE * EACH, "killed mid-burst"
    tracebacks = [i for i, line in enumerate(lines) if "Traceback" in line]
    assert not tracebacks, "".join(lines[tracebacks[0] - 3 : tracebacks[0] + 40])

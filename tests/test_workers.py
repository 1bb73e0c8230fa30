"""Several `vie-coach run` workers on one PostgreSQL database, each in a process of its
own, against the Bot API emulator: updates reach their webhooks round-robin, as behind
a load balancer, or one of them polls. Every update is answered once, each person's
replies come in the order of their messages, and a worker killed with -9 loses nothing:
only what it had in flight may be answered twice."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import shutil
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from bot.adapters.telegram.webhook import SECRET_HEADER
from bot.app.bootstrap import standard_features
from bot.core.events import ScheduleNudge
from bot.core.state import new_state
from bot.dialogs.load import load_dialogs
from bot.features.nudges.state import NUDGES
from bot.runtime.conversation import Conversations, Person
from bot.store import open_sqlite, open_store
from bot.testing import ChatHarness, FakeClock
from bot.testing.botapi import BotApiEmulator, FakeUser, serve

from .conftest import MINI
from .conftest import WEBHOOK_SECRET as SECRET
from .processes import until, vie_coach

pytestmark = pytest.mark.timeout(240)
PEOPLE = 100
# Ten messages whose replies tell each other apart in order: a lost, repeated or swapped
# update changes the person's sequence of replies
SCRIPT = ("/start", "euh", "euh", "euh", "/progress", "bof", "/help", "bof", "/progress", "bof")
SHOWN = 30  # the first characters of a reply compared


LIMITS_OFF = "overall_per_second = 5000\nper_chat_per_second = 200\nper_chat_burst = 50\n"


def config(
    tmp_path: Path,
    name: str,
    base_url: str,
    mode: str,
    url: str,
    extra: str = LIMITS_OFF,
    dialogs: Path = MINI,
) -> Path:
    webhook = (
        f'webhook_url = "https://example.org/hook"\nwebhook_secret = "{SECRET}"\n'
        'webhook_listen = "127.0.0.1"\nwebhook_port = 0\n'
        if mode == "webhook"
        else ""
    )
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'[bot]\ndialogs = "{dialogs}"\nwatch_dialogs = false\n'
        f'[store]\nurl = "{url}"\n'
        f'[telegram]\nbase_url = "{base_url}"\nmode = "{mode}"\n{webhook}'
        # by default the limits out of the way: the burst takes seconds, not minutes
        f'{extra}[logging]\nlevel = "INFO"\n[ops]\nport = 0\n',
        encoding="utf-8",
    )
    return path


async def expected() -> list[str]:
    """What one person receives for SCRIPT, from a single process on SQLite."""
    dialogs = load_dialogs(MINI, ("fr", "en"), "welcome", standard_features())
    store = await open_sqlite(":memory:")
    try:
        harness = ChatHarness(
            Conversations(dialogs, store, "fr"), Person(1, "P", "fr"), FakeClock()
        )
        replies = []
        for text in SCRIPT:
            replies += [m.text[:SHOWN] for m in await harness.send(text)]
        return replies
    finally:
        await store.close()


def received(emulator: BotApiEmulator, person: FakeUser) -> list[str]:
    texts = (str(m["text"]) for m in emulator.sent_to(person.id))
    # the name in the greeting is each person's own
    return [t.replace(person.first_name, "P", 1)[:SHOWN] for t in texts]


def replies(emulator: BotApiEmulator) -> int:
    return len(emulator.calls_to("sendMessage"))


def webhook_port(lines: list[str]) -> int | None:
    for line in lines:
        if found := re.search(r"webhook mode: listening on 127\.0\.0\.1:(\d+)", line):
            return int(found.group(1))
    return None


def outbox_rows(url: str) -> int:
    with psycopg.connect(url) as db:
        row = db.execute("SELECT count(*) FROM outbox").fetchone()
        return int(row[0]) if row else 0


@asynccontextmanager
async def workers(configs: list[Path]) -> AsyncIterator[list[tuple[Any, list[str]]]]:
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(vie_coach("run", "--config", str(c))) for c in configs
        ]


async def listening(lines: list[str]) -> None:
    try:
        await until(lambda: webhook_port(lines) is not None, 60, "a worker listening")
    except AssertionError:
        raise AssertionError("a worker not listening:\n" + "".join(lines[-30:])) from None


def sender(lines: list[str]) -> bool:
    return any("takes the sender role" in line for line in lines)


def clean(lines: list[str]) -> None:
    tracebacks = [i for i, line in enumerate(lines) if "Traceback" in line]
    assert not tracebacks, "".join(lines[max(0, tracebacks[0] - 3) : tracebacks[0] + 40])


@pytest.mark.parametrize(("count", "kill"), [(2, False), (3, False), (3, True)])
async def test_webhook_workers_behind_a_load_balancer(
    tmp_path: Path, pg_url: str, count: int, kill: bool
) -> None:
    emulator = BotApiEmulator()
    people = [FakeUser(30_000 + i, f"P{i}", "fr") for i in range(PEOPLE)]
    want = await expected()
    async with serve(emulator) as base_url:
        configs = [config(tmp_path, f"w{i}", base_url, "webhook", pg_url) for i in range(count)]
        async with workers(configs) as running:
            for _, lines in running:
                await listening(lines)
            urls = [f"http://127.0.0.1:{webhook_port(lines)}/hook" for _, lines in running]
            alive = [True] * count
            turn = itertools.count()

            async def telegram(session: aiohttp.ClientSession, person: FakeUser) -> None:
                """One chat's updates, each after the one before was accepted (Telegram
                keeps a chat's order), to whichever worker is next, skipping one that
                does not answer (as a load balancer would)."""
                for text in SCRIPT:
                    update = emulator.user_message(person, text)
                    while True:
                        target = next(turn) % count
                        if not alive[target]:
                            continue
                        try:
                            async with session.post(
                                urls[target], data=json.dumps(update),
                                headers={SECRET_HEADER: SECRET,
                                         "Content-Type": "application/json"},
                            ) as response:  # fmt: skip
                                if response.status == 200:
                                    break
                        except aiohttp.ClientError:
                            pass
                        await asyncio.sleep(0.02)

            in_flight, at_kill, victim = 0, 0, -1
            total = PEOPLE * len(want)
            async with aiohttp.ClientSession() as session:
                chats = [asyncio.create_task(telegram(session, p)) for p in people]
                if kill:  # the worker sending for all: its role is taken over
                    await until(lambda: replies(emulator) >= 300, 60, "the first replies")
                    victim = next(i for i, (_, lines) in enumerate(running) if sender(lines))
                    process, _ = running[victim]
                    alive[victim] = False
                    process.send_signal(signal.SIGKILL)
                    await process.wait()
                    at_kill, in_flight = replies(emulator), outbox_rows(pg_url)
                    assert at_kill < total, "killed in the middle of the burst"
                await asyncio.gather(*chats)
            await until(
                lambda: all(len(emulator.sent_to(p.id)) >= len(want) for p in people),
                90, "every update answered",
            )  # fmt: skip
            await asyncio.sleep(0.5)  # nothing more comes
            senders = sum(sender(lines) for _, lines in running)
            assert senders == (2 if kill else 1), "one sender at a time, taken over once"
        for i, (_, lines) in enumerate(running):
            if i != victim:
                clean(lines)

    twice = replies(emulator) - total
    assert 0 <= twice <= in_flight, f"{twice} answered twice, {in_flight} rows were waiting"
    for person in people:
        got = received(emulator, person)
        if kill:  # sent again at the takeover: what was sent, not yet marked so
            assert sent_again_at_most_once(got, want), f"{person.id}: {got}"
        else:
            assert got == want, f"{person.id}: {got}"


def sent_again_at_most_once(got: list[str], want: list[str]) -> bool:
    """`got` is `want`, or `want` with the replies just before some point sent once more
    at that point (a new sender takes the rows the dead one had sent but not yet deleted,
    in order): nothing lost, nothing moved."""
    if got == want:
        return True
    k = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), len(want))
    return any(got == want[:k] + want[b:k] + want[k:] for b in range(k))


def poller(lines: list[str]) -> bool:
    return any("takes the poller role" in line for line in lines)


async def test_the_polling_worker_killed_another_takes_over(tmp_path: Path, pg_url: str) -> None:
    """Two workers in polling mode: one polls (Telegram answers 409 to a second), both
    process; kill -9 of the one polling mid-burst: the other polls within seconds, and
    every update is answered."""
    emulator = BotApiEmulator()
    people = [FakeUser(40_000 + i, f"P{i}", "fr") for i in range(PEOPLE)]
    want = await expected()
    async with serve(emulator) as base_url:
        configs = [config(tmp_path, f"p{i}", base_url, "polling", pg_url) for i in range(2)]
        async with workers(configs) as running:
            await until(lambda: any(poller(lines) for _, lines in running), 60, "a poller")
            for text in SCRIPT:
                for person in people:
                    emulator.user_message(person, text)
            await until(lambda: replies(emulator) >= 300, 60, "the first replies")
            victim = next(i for i, (_, lines) in enumerate(running) if poller(lines))
            process, _ = running[victim]
            process.send_signal(signal.SIGKILL)
            await process.wait()
            at_kill, in_flight = replies(emulator), outbox_rows(pg_url)
            assert at_kill < PEOPLE * len(want), "killed in the middle of the burst"
            _, other = running[1 - victim]
            await until(lambda: poller(other), 10, "the other worker polling")
            await until(
                lambda: all(len(emulator.sent_to(p.id)) >= len(want) for p in people),
                90, "every update answered",
            )  # fmt: skip
            await asyncio.sleep(0.5)
        clean(other)
    assert emulator.poll_conflicts == 0, "never two pollers at once"
    twice = replies(emulator) - PEOPLE * len(want)
    assert 0 <= twice <= in_flight, f"{twice} answered twice, {in_flight} rows were waiting"
    for person in people:
        got = received(emulator, person)
        assert sent_again_at_most_once(got, want), f"{person.id}: {got}"


NUDGED = 2000
RATE = 200  # what the emulator allows a second, for the whole bot (and 2 per chat)


async def due_nudges(url: str, count: int) -> list[FakeUser]:
    """`count` people on a node with follow-ups, each with a reminder due a minute ago."""
    dialogs = load_dialogs(MINI, ("fr", "en"), "welcome", standard_features())
    node = dialogs.flows["informer"].nodes["intro"]
    now = datetime.now(UTC)
    due = now - timedelta(minutes=1)
    people = [FakeUser(50_000 + i, f"P{i}", "fr") for i in range(count)]
    store = await open_store(url)
    try:
        await asyncio.gather(*(
            store.save(None, NUDGES.update(
                replace(new_state(p.id, "fr", now - timedelta(days=3), p.first_name),
                        flow="informer", node="intro", node_version=node.version),
                next_at=due), [ScheduleNudge("followup", due)], {})
            for p in people
        ))  # fmt: skip
    finally:
        await store.close()
    return people


async def test_three_workers_send_due_reminders_once_within_the_limits(
    tmp_path: Path, pg_url: str
) -> None:
    """2,000 reminders due at once, three workers claiming them (`SKIP LOCKED`): each
    person receives theirs once, and the one sender keeps under Telegram's limits."""
    people = await due_nudges(pg_url, NUDGED)
    emulator = BotApiEmulator()
    emulator.limit(global_per_second=RATE, per_chat_per_second=2)
    limits = (
        "overall_per_second = 180\nper_chat_per_second = 1\nper_chat_burst = 1\n"
        '[nudges]\nquiet_start = "00:00"\nquiet_end = "00:00"\ntick_seconds = 0.2\n'
    )
    async with serve(emulator) as base_url:
        configs = [config(tmp_path, f"n{i}", base_url, "webhook", pg_url, limits) for i in range(3)]
        async with workers(configs) as running:
            await until(lambda: replies(emulator) >= NUDGED, 90, "every reminder sent")
            await asyncio.sleep(1.0)  # nothing more comes
            for _, lines in running:
                clean(lines)
    assert emulator.throttled == 0, "never over Telegram's limits"
    for person in people:
        texts = [str(m["text"]) for m in emulator.sent_to(person.id)]
        assert texts == [f"On en reparle, {person.first_name}\u202f?"], (person.id, texts)


async def test_a_reload_asked_of_one_worker_reaches_the_others(tmp_path: Path, pg_url: str) -> None:
    """An operator's /reload reaches one worker (whichever the load balancer chose): the
    others hear of it and serve the new files too."""
    folder = tmp_path / "dialogs"
    shutil.copytree(MINI, folder)
    operator = FakeUser(60_001, "Opé", "fr")
    emulator = BotApiEmulator()
    extra = f"{LIMITS_OFF}admins = [{operator.id}]\n"
    async with serve(emulator) as base_url:
        configs = [
            config(tmp_path, f"r{i}", base_url, "webhook", pg_url, extra, folder) for i in range(2)
        ]
        async with workers(configs) as running, aiohttp.ClientSession() as session:
            for _, lines in running:
                await listening(lines)
            welcome = folder / "welcome.yaml"
            welcome.write_text(welcome.read_text("utf-8").replace("Bonjour", "Salut"), "utf-8")
            update = emulator.user_message(operator, "/reload")
            port = webhook_port(running[0][1])
            async with session.post(
                f"http://127.0.0.1:{port}/hook", data=json.dumps(update),
                headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
            ) as response:  # fmt: skip
                assert response.status == 200
            for _, lines in running:
                await until(
                    lambda lines=lines: any("dialogs reloaded" in line for line in lines),
                    30, "each worker reloaded",
                )  # fmt: skip
            told = running[1][1]
            assert any("dialogs reloaded (/reload (another worker))" in line for line in told)
            for _, lines in running:
                clean(lines)

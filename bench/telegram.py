"""The Telegram path, end to end, against a bare python-telegram-bot bot that echoes each
message, measured in the same run.

(a) Limits out of the way: 1,000 people x 10 updates, each person sending the next one
    once the bot's reply has reached the emulator. Both bots long-poll the same emulator
    (the full bot through its inbox, turn and outbox; the echo through PTB's updater).
    Throughput ratio (target >= 0.9), p95 latency ratio (target <= 1.2), and, in process,
    CPU per update (target <= 2x the echo's).
(b) Telegram's limits, enforced by the emulator (30/s for the bot, 3 in any second per
    chat), the bot's default limits: 50 people each waiting for their answer. Replies/s
    over the limit (target >= 0.9), 429s (target 0), and the p95 latency against the same
    run with the former global bucket of one message (target: half).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest, HTTPXRequest

from bench.common import LANGS, ROOT
from bot.adapters.telegram.ratelimit import SendLimiter
from bot.app.bootstrap import standard_features
from bot.app.config import load_config
from bot.app.telegram import build_application, serve_polling
from bot.dialogs.load import load_dialogs
from bot.testing.botapi import BotApiEmulator, EmulatorRequest, FakeUser, serve

USERS, UPDATES, CONCURRENCY = 1000, 10, 256


async def drive(
    emulator: BotApiEmulator, users: int, updates: int, full: bool
) -> tuple[float, list[float]]:
    """Every person sends their updates one after another, each once the previous reply
    has arrived; returns (seconds, latencies)."""
    latencies: list[float] = []
    rng = random.Random(3)

    async def person(i: int) -> None:
        user = FakeUser(10_000 + i, f"P{i}", LANGS[i % 2])
        for n in range(updates):
            reply = emulator.next_message(user.id)
            start = time.perf_counter()
            if n == 0:
                emulator.user_message(user, "/start" if full else "hello")
            elif full and rng.random() < 0.8:
                message = emulator.last_with_buttons(user.id)
                buttons = emulator.buttons(message)
                if buttons:
                    emulator.user_press(user, message, rng.choice(buttons)[1])
                else:
                    emulator.user_message(user, "bof")
            else:
                emulator.user_message(user, "pas le temps" if full else f"hello {n}")
            await asyncio.wait_for(reply, 60)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(person(i) for i in range(users)))
    return time.perf_counter() - start, latencies


@asynccontextmanager
async def full_bot(
    request: BaseRequest, url: str, folder: Path, limiter: SendLimiter | None = None
) -> AsyncIterator[Any]:
    dialogs = load_dialogs(ROOT / "dialogs", LANGS, "welcome", standard_features())
    config = load_config(
        {"store": {"path": str(folder / f"bench{time.monotonic_ns()}.db")},
         "telegram": {"base_url": url}, "ops": {"port": 0}},
        {"TELEGRAM_BOT_TOKEN": "1:bench"},
    )  # fmt: skip
    limiter = limiter or SendLimiter(1e9, 1e9, 100)
    app = build_application(config, dialogs, request=request, limiter=limiter)
    stop = asyncio.Event()
    running = asyncio.create_task(serve_polling(app, stop))
    while "poller" not in app.bot_data:
        await asyncio.sleep(0.01)
    try:
        yield app
    finally:
        stop.set()
        await running


@asynccontextmanager
async def echo_bot(request: BaseRequest, url: str) -> AsyncIterator[Any]:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await context.bot.send_message(update.message.chat_id, update.message.text)

    app = (
        ApplicationBuilder()
        .token("1:bench")
        .base_url(url)
        .request(request)
        .get_updates_request(request)
        .concurrent_updates(CONCURRENCY)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=10)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


Transport = Callable[[BotApiEmulator], Any]  # -> async context manager of (request, base_url)


async def measure(transport: Transport, label: str) -> dict[str, float]:
    total = USERS * UPDATES
    with tempfile.TemporaryDirectory() as tmp:
        emulator = BotApiEmulator()
        async with transport(emulator) as (request, url), echo_bot(request, url):
            cpu = time.process_time()
            echo_s, echo_lat = await drive(emulator, USERS, UPDATES, full=False)
            echo_cpu = time.process_time() - cpu
        emulator = BotApiEmulator()
        async with transport(emulator) as (request, url), full_bot(request, url, Path(tmp)):
            cpu = time.process_time()
            full_s, full_lat = await drive(emulator, USERS, UPDATES, full=True)
            full_cpu = time.process_time() - cpu
    figures = {
        "echo_updates_per_s": total / echo_s, "full_updates_per_s": total / full_s,
        "echo_p50_ms": pct(echo_lat, 50), "echo_p95_ms": pct(echo_lat, 95),
        "full_p50_ms": pct(full_lat, 50), "full_p95_ms": pct(full_lat, 95),
        "echo_cpu_ms": echo_cpu / total * 1000, "full_cpu_ms": full_cpu / total * 1000,
    }  # fmt: skip
    figures["ratio"] = figures["full_updates_per_s"] / figures["echo_updates_per_s"]
    figures["p95_ratio"] = figures["full_p95_ms"] / figures["echo_p95_ms"]
    figures["cpu_ratio"] = figures["full_cpu_ms"] / figures["echo_cpu_ms"]
    print(f"(telegram a, {label}) {USERS} people x {UPDATES} updates, each waiting for its reply")
    for who in ("echo", "full"):
        name = "bare PTB echo bot " if who == "echo" else "full VIE Coach bot"
        print(f"    {name}: {figures[f'{who}_updates_per_s']:7.0f} updates/s   "
              f"p50 {figures[f'{who}_p50_ms']:6.1f} ms   p95 {figures[f'{who}_p95_ms']:6.1f} ms   "
              f"CPU {figures[f'{who}_cpu_ms']:5.2f} ms/update")  # fmt: skip
    print(f"    throughput ratio  : {figures['ratio']:7.3f}  (target >= 0.9)")
    print(f"    p95 latency ratio : {figures['p95_ratio']:7.3f}  (target <= 1.2)")
    print(f"    CPU ratio         : {figures['cpu_ratio']:7.3f}  (target <= 2, in process)")
    return figures


async def under_limits(overall_burst: float | None) -> dict[str, float]:
    """(b): 50 people, each waiting for each answer, Telegram's limits enforced."""
    people, each = 50, 20
    emulator = BotApiEmulator()
    emulator.limit(global_per_second=30, per_chat_per_second=1, burst=3)
    limiter = SendLimiter(30, 1, 3, overall_burst=overall_burst)
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            in_process(emulator) as (request, url),
            full_bot(request, url, Path(tmp), limiter),
        ):
            seconds, latencies = await drive(emulator, people, each, full=False)
    return {"per_s": people * each / seconds, "ratio": people * each / seconds / 30,
            "p95_ms": pct(latencies, 95), "p50_ms": pct(latencies, 50),
            "429s": emulator.throttled}  # fmt: skip


@asynccontextmanager
async def in_process(emulator: BotApiEmulator) -> AsyncIterator[tuple[BaseRequest, str]]:
    yield EmulatorRequest(emulator), "http://in-process/bot"


@asynccontextmanager
async def served(emulator: BotApiEmulator) -> AsyncIterator[tuple[BaseRequest, str]]:
    """The real HTTP stack: PTB's httpx client to the emulator on 127.0.0.1."""
    async with serve(emulator) as url:
        yield HTTPXRequest(connection_pool_size=CONCURRENCY, pool_timeout=30), url


def run() -> dict[str, Any]:
    figures: dict[str, Any] = {
        "in_process": asyncio.run(measure(in_process, "in-process emulator")),
        "served": asyncio.run(measure(served, "emulator served on 127.0.0.1")),
    }
    before = asyncio.run(under_limits(overall_burst=1))
    now = asyncio.run(under_limits(overall_burst=None))
    print("(telegram b) 50 people each waiting for each answer, Telegram's limits enforced")
    for label, r in (("global bucket of 1 (before)", before), ("global bucket of 2 (now)   ", now)):
        print(f"    {label}: {r['per_s']:5.1f} replies/s = {r['ratio']:.3f} of 30/s   "
              f"p50 {r['p50_ms']:6.0f} ms   p95 {r['p95_ms']:6.0f} ms   429s {r['429s']}")  # fmt: skip
    print(f"    p95 now / before : {now['p95_ms'] / before['p95_ms']:.3f} (target <= 0.5)")
    figures.update(limits_before=before, limits_now=now)
    return figures


if __name__ == "__main__":
    run()

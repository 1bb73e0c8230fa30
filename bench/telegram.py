"""Issue 3: updates/s and latency of the full bot (PTB + engine + store) against a bare PTB
bot that echoes each message, 1,000 concurrent people x 10 updates each, each person's
updates in order (a person sends the next update once the previous one is handled).

Both bots run the same PTB version, the same concurrency (256 updates at once) and talk
to the same emulator. The full bot's send limiter is set high here: this measures how
much work the bot adds per update; the limits themselves are tested elsewhere.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bench.common import LANGS, ROOT
from bot.adapters.telegram.ordering import PerUserUpdateProcessor
from bot.adapters.telegram.ratelimit import SendLimiter
from bot.app.bootstrap import standard_features
from bot.app.config import load_config
from bot.app.telegram import build_application
from bot.dialogs.load import load_dialogs
from bot.testing.botapi import BotApiEmulator, EmulatorRequest, FakeUser, serve

USERS, UPDATES, CONCURRENCY = 1000, 10, 256


class Timed(BaseUpdateProcessor):
    """Wraps an update processor to tell when each update has been handled."""

    def __init__(self, inner: BaseUpdateProcessor) -> None:
        super().__init__(inner.max_concurrent_updates)
        self.inner = inner
        self.done: dict[int, asyncio.Future[None]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await self.inner.do_process_update(update, coroutine)
        finally:
            if isinstance(update, Update) and (f := self.done.pop(update.update_id, None)):
                f.set_result(None)

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()


class Inline(BaseUpdateProcessor):
    """PTB's own concurrent processing, as a bare bot would use it."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


async def drive(
    app: Any, emulator: BotApiEmulator, timed: Timed, full: bool
) -> tuple[float, list[float]]:
    """Every person sends their updates one after another; returns (seconds, latencies)."""
    latencies: list[float] = []
    rng = random.Random(3)
    loop = asyncio.get_running_loop()

    async def person(i: int) -> None:
        user = FakeUser(10_000 + i, f"P{i}", LANGS[i % 2])
        for n in range(UPDATES):
            if n == 0:
                raw = emulator.user_message(user, "/start" if full else "hello")
            elif full and rng.random() < 0.8:
                message = emulator.last_with_buttons(user.id)
                buttons = emulator.buttons(message)
                raw = (
                    emulator.user_press(user, message, rng.choice(buttons)[1])
                    if buttons
                    else emulator.user_message(user, "bof")
                )
            else:
                raw = emulator.user_message(user, "pas le temps" if full else f"hello {n}")
            emulator._updates.clear()  # fed directly below, not through getUpdates
            update = Update.de_json(raw, app.bot)
            done = loop.create_future()
            timed.done[update.update_id] = done
            start = time.perf_counter()
            await app.update_queue.put(update)
            await done
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(person(i) for i in range(USERS)))
    return time.perf_counter() - start, latencies


@asynccontextmanager
async def full_bot(
    request: BaseRequest, url: str, folder: Path
) -> AsyncIterator[tuple[Any, Timed]]:
    dialogs = load_dialogs(ROOT / "dialogs", LANGS, "welcome", standard_features())
    config = load_config(
        {"store": {"path": str(folder / "bench.db")}, "telegram": {"base_url": url}},
        {"TELEGRAM_BOT_TOKEN": "1:bench"},
    )
    limiter = SendLimiter(overall_per_second=1e9, per_chat_per_second=1e9, per_chat_burst=100)
    app = build_application(config, dialogs, request=request, limiter=limiter)
    timed = Timed(PerUserUpdateProcessor(CONCURRENCY))
    app._update_processor = timed  # same processor, wrapped to time it
    await app.initialize()
    await app.post_init(app)  # type: ignore[misc]
    await app.start()
    try:
        yield app, timed
    finally:
        await app.stop()
        await app.post_shutdown(app)  # type: ignore[misc]
        await app.shutdown()


@asynccontextmanager
async def echo_bot(request: BaseRequest, url: str) -> AsyncIterator[tuple[Any, Timed]]:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await context.bot.send_message(update.message.chat_id, update.message.text)

    timed = Timed(Inline(CONCURRENCY))
    app = (
        ApplicationBuilder()
        .token("1:bench")
        .base_url(url)
        .request(request)
        .get_updates_request(request)
        .concurrent_updates(timed)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    await app.start()
    try:
        yield app, timed
    finally:
        await app.stop()
        await app.shutdown()


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


Transport = Callable[[BotApiEmulator], Any]  # -> async context manager of (request, base_url)


async def measure(transport: Transport, label: str) -> dict[str, float]:
    total = USERS * UPDATES
    with tempfile.TemporaryDirectory() as tmp:
        emulator = BotApiEmulator()
        async with transport(emulator) as (request, url), echo_bot(request, url) as (app, timed):
            echo_s, echo_lat = await drive(app, emulator, timed, full=False)
        emulator = BotApiEmulator()
        async with (
            transport(emulator) as (request, url),
            full_bot(request, url, Path(tmp)) as (app, timed),
        ):
            full_s, full_lat = await drive(app, emulator, timed, full=True)
    figures = {
        "echo_updates_per_s": total / echo_s,
        "full_updates_per_s": total / full_s,
        "echo_p50_ms": pct(echo_lat, 50), "echo_p95_ms": pct(echo_lat, 95),
        "full_p50_ms": pct(full_lat, 50), "full_p95_ms": pct(full_lat, 95),
    }  # fmt: skip
    figures["ratio"] = figures["full_updates_per_s"] / figures["echo_updates_per_s"]
    figures["p95_ratio"] = figures["full_p95_ms"] / figures["echo_p95_ms"]
    print(f"(telegram, {label}) {USERS} people x {UPDATES} updates, {CONCURRENCY} at once")
    print(
        f"    bare PTB echo bot : {figures['echo_updates_per_s']:8.0f} updates/s   p50 {figures['echo_p50_ms']:6.1f} ms   p95 {figures['echo_p95_ms']:6.1f} ms"
    )
    print(
        f"    full VIE Coach bot: {figures['full_updates_per_s']:8.0f} updates/s   p50 {figures['full_p50_ms']:6.1f} ms   p95 {figures['full_p95_ms']:6.1f} ms"
    )
    print(f"    throughput ratio  : {figures['ratio']:8.3f}  (target >= 0.8)")
    print(f"    p95 latency ratio : {figures['p95_ratio']:8.3f}  (target <= 1.5)")
    return figures


@asynccontextmanager
async def in_process(emulator: BotApiEmulator) -> AsyncIterator[tuple[BaseRequest, str]]:
    yield EmulatorRequest(emulator), "http://in-process/bot"


@asynccontextmanager
async def served(emulator: BotApiEmulator) -> AsyncIterator[tuple[BaseRequest, str]]:
    """The real HTTP stack: PTB's httpx client to the emulator on 127.0.0.1."""
    async with serve(emulator) as url:
        yield HTTPXRequest(connection_pool_size=CONCURRENCY, pool_timeout=30), url


def run() -> dict[str, dict[str, float]]:
    return {
        "in_process": asyncio.run(measure(in_process, "in-process emulator")),
        "served": asyncio.run(measure(served, "emulator served on 127.0.0.1")),
    }


if __name__ == "__main__":
    run()

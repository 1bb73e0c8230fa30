"""/healthz and /metrics: served by the running bot in polling and in webhook mode, 503
when the store or Telegram does not answer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.adapters.ops import Vitals, ops_app
from bot.adapters.telegram.webhook import SECRET_HEADER
from bot.app.config import load_config
from bot.app.telegram import build_application, serve_webhook
from bot.core.dialogset import DialogSet
from bot.runtime.metrics import Metrics
from bot.store.interfaces import Backlog
from bot.testing import FakeClock
from bot.testing.botapi import BotApiEmulator, EmulatorRequest, FakeUser

from .conftest import TOKEN, WEBHOOK_SECRET
from .test_end_to_end import live_bot, say, until

ZOE = FakeUser(515, "Zoé", "fr")


async def get(port: int, path: str) -> tuple[int, str, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, response.headers["Content-Type"], await response.text()


def sample(metrics_text: str, name: str) -> float:
    """The value of one sample line of the Prometheus text format."""
    for line in metrics_text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"no sample {name}")


async def test_health_and_metrics_in_polling_mode(tmp_path: Path, mini: DialogSet) -> None:
    import json

    emulator = BotApiEmulator(token=TOKEN)
    async with live_bot(emulator, tmp_path / "ops.db", mini) as app:
        port = app.bot_data["ops_port"]
        await say(emulator, ZOE, "/start")
        await say(emulator, ZOE, "je ne sais pas trop")
        status, kind, body = await get(port, "/healthz")
        assert status == 200 and kind.startswith("application/json")
        health = json.loads(body)
        assert health["status"] == "ok" and health["store"] == "ok"
        assert health["telegram"].startswith("answered")
        assert health["backlog"]["inbox_waiting"] == 0
        status, kind, text = await get(port, "/metrics")
    assert status == 200 and kind.startswith("text/plain")
    assert sample(text, 'vie_turns_total{kind="update"}') >= 2
    assert sample(text, 'vie_updates_total{outcome="answered"}') >= 2
    assert sample(text, 'vie_replies_sent_total{kind="reply"}') >= 2
    assert sample(text, 'vie_turn_seconds_count{kind="update"}') >= 2
    assert sample(text, "vie_outbox_rows") == 0 and "vie_telegram_429_total" in text
    assert sample(text, "vie_telegram_last_success_timestamp_seconds") > 0


async def test_health_and_metrics_in_webhook_mode(tmp_path: Path, mini: DialogSet) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        hook_port = probe.getsockname()[1]
    emulator = BotApiEmulator(token=TOKEN)
    config = load_config(
        {"store": {"path": str(tmp_path / "w.db")}, "ops": {"port": 0},
         "telegram": {"mode": "webhook", "webhook_url": "https://example.org/hook",
                      "webhook_secret": WEBHOOK_SECRET, "webhook_listen": "127.0.0.1",
                      "webhook_port": hook_port}},
        {"TELEGRAM_BOT_TOKEN": TOKEN},
    )  # fmt: skip
    app = build_application(config, mini, request=EmulatorRequest(emulator))
    stop = asyncio.Event()
    running = asyncio.create_task(serve_webhook(app, config, stop))
    try:
        await until(lambda: bool(emulator.calls_to("setWebhook")))
        async with aiohttp.ClientSession() as session:
            update = emulator.user_message(ZOE, "/start")
            headers = {SECRET_HEADER: WEBHOOK_SECRET}
            url = f"http://127.0.0.1:{hook_port}/hook"
            async with session.post(url, json=update, headers=headers) as response:
                assert response.status == 200
        await until(lambda: bool(emulator.sent_to(ZOE.id)))
        port = app.bot_data["ops_port"]
        status, _, body = await get(port, "/healthz")
        assert status == 200 and '"status": "ok"' in body
        status, _, text = await get(port, "/metrics")
        assert status == 200 and sample(text, 'vie_turns_total{kind="update"}') == 1
        assert (await get(port, "/anything"))[0] == 404
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


# -- the checks themselves, with a clock and failures of our choosing --------------------
class Pings:
    def __init__(self) -> None:
        self.calls, self.down = 0, False

    async def __call__(self) -> object:
        self.calls += 1
        if self.down:
            raise ConnectionError("no route")
        return {"ok": True}


async def served(vitals: Vitals) -> Any:
    runner = web.AppRunner(ops_app(vitals))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


@pytest.mark.parametrize("store_fails", [False, True])
async def test_unhealthy_when_telegram_is_silent_or_the_store_fails(store_fails: bool) -> None:
    import json

    clock = FakeClock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    metrics, pings = Metrics(), Pings()

    async def backlog() -> Backlog:
        if store_fails:
            raise OSError("disk I/O error")
        return Backlog(3, 2, clock.now() - timedelta(seconds=90), 7)

    vitals = Vitals(backlog, pings, metrics, timedelta(minutes=5), clock.now)
    runner, port = await served(vitals)
    try:
        metrics.telegram_answered(clock.now())
        status, _, body = await get(port, "/healthz")
        assert pings.calls == 0  # answered recently: no call of its own
        if store_fails:
            assert status == 503 and json.loads(body)["store"] == "OSError"
            return
        assert status == 200
        assert json.loads(body)["backlog"] == {
            "inbox_waiting": 3, "outbox_rows": 2, "oldest_unsent_seconds": 90.0,
            "nudges_pending": 7,
        }  # fmt: skip
        clock.advance(timedelta(minutes=6))  # silent for longer than 5 minutes: ask it
        assert (await get(port, "/healthz"))[0] == 200 and pings.calls == 1
        assert (await get(port, "/healthz"))[0] == 200 and pings.calls == 1  # answered now
        clock.advance(timedelta(minutes=6))
        pings.down = True
        status, _, body = await get(port, "/healthz")
        assert status == 503 and "unreachable (ConnectionError)" in json.loads(body)["telegram"]
        _, _, text = await get(port, "/metrics")
        assert sample(text, "vie_inbox_waiting") == 3 and sample(text, "vie_nudges_pending") == 7
    finally:
        await runner.cleanup()

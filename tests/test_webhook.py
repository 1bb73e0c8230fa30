"""Webhook mode: the secret is checked before the body is used; redeliveries count once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.adapters.telegram.webhook import SECRET_HEADER, webhook_app
from bot.app.config import load_config
from bot.app.telegram import build_application
from bot.core.dialogset import DialogSet
from bot.testing.botapi import BotApiEmulator, EmulatorRequest, FakeUser

ZOE = FakeUser(101, "Zoé", "fr")
SECRET = "s3cret-Token_42"


@pytest.fixture
async def webhook(
    tmp_path: Path, mini: DialogSet
) -> AsyncIterator[tuple[str, BotApiEmulator, Any]]:
    emulator = BotApiEmulator()
    config = load_config(
        {"store": {"path": str(tmp_path / "w.db")},
         "telegram": {"mode": "webhook", "webhook_url": "https://example.org/tg/hook", "webhook_secret": SECRET}},
        {"TELEGRAM_BOT_TOKEN": "1:test"},
    )  # fmt: skip
    app = build_application(config, mini, request=EmulatorRequest(emulator))
    await app.initialize()
    await app.post_init(app)  # type: ignore[misc]
    receiver = webhook_app(lambda: app.bot_data["vie"], SECRET, "/tg/hook")
    server = TestServer(receiver, host="127.0.0.1", port=0)
    await server.start_server()
    yield str(server.make_url("/tg/hook")), emulator, app
    await server.close()
    await app.post_shutdown(app)  # type: ignore[misc]
    await app.shutdown()


async def until(condition: Any) -> None:
    for _ in range(300):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in 3 s")


async def post(url: str, body: Any, secret: str | None) -> int:
    return (await answer(url, body, secret))[0]


async def answer(url: str, body: Any, secret: str | None) -> tuple[int, str]:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=headers) as response,
    ):
        return response.status, await response.text()


async def test_wrong_or_missing_secret_is_refused_and_nothing_processed(webhook: Any) -> None:
    url, emulator, app = webhook
    update = emulator.user_message(ZOE, "/start")
    assert await post(url, update, "wrong") == 403
    assert await post(url, update, None) == 403
    assert await post(url, "not even json", "wrong") == 403
    assert await app.bot_data["vie"].store.inbox.waiting() == []
    # A barrier, not a pause: Zoé's updates are handled in order, so once the reply to a
    # later one has arrived, a refused one that slipped in would have been answered first.
    assert await post(url, emulator.user_message(ZOE, "/help"), SECRET) == 200
    await until(lambda: len(emulator.sent_to(ZOE.id)) >= 1)
    (only,) = emulator.sent_to(ZOE.id)
    assert "/invite" in only["text"] and "Bonjour" not in only["text"]


async def test_right_secret_is_processed_and_a_redelivery_counts_once(webhook: Any) -> None:
    url, emulator, _ = webhook
    update = emulator.user_message(ZOE, "/start")
    assert await post(url, update, SECRET) == 200
    await until(lambda: len(emulator.sent_to(ZOE.id)) == 1)
    assert await post(url, update, SECRET) == 200  # Telegram delivers it again
    second = emulator.user_message(ZOE, "/help")
    assert await post(url, second, SECRET) == 200
    await until(lambda: len(emulator.sent_to(ZOE.id)) >= 2)
    # a barrier: a late answer to the redelivery would come before this one's
    assert await post(url, emulator.user_message(ZOE, "/progress"), SECRET) == 200
    await until(lambda: len(emulator.sent_to(ZOE.id)) >= 3)
    texts = [m["text"] for m in emulator.sent_to(ZOE.id)]
    assert texts[0] == "Bonjour Zoé !\n\nPar où commencer ?\n\nUn code d'invitation ?"
    assert "/invite" in texts[1] and len(texts) == 3


async def test_a_press_is_answered_in_the_http_response(webhook: Any) -> None:
    url, emulator, _ = webhook
    assert await post(url, emulator.user_message(ZOE, "/start"), SECRET) == 200
    await until(lambda: len(emulator.sent_to(ZOE.id)) == 1)
    menu = emulator.last_with_buttons(ZOE.id)
    press = emulator.user_press(ZOE, menu, emulator.buttons(menu)[0][1])
    status, body = await answer(url, press, SECRET)
    assert status == 200
    assert json.loads(body) == {
        "method": "answerCallbackQuery",
        "callback_query_id": press["callback_query"]["id"],
    }
    await until(lambda: len(emulator.sent_to(ZOE.id)) == 2)
    calls = [m for m, _ in emulator.calls if m not in ("getMe", "setMyCommands")]
    assert calls[0] == "sendMessage" and sorted(calls[1:]) == [
        "editMessageReplyMarkup",
        "sendMessage",
    ], "a press costs two calls, made together: the mark of the choice and the next step"
    assert (await post(url, press, SECRET)) == 200, "a redelivered press is not answered twice"


async def test_malformed_body_with_the_right_secret(webhook: Any) -> None:
    url, _, _ = webhook
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=b"{not json", headers={SECRET_HEADER: SECRET}) as response,
    ):
        assert response.status == 400


async def test_serve_webhook_registers_and_stops(tmp_path: Path, mini: DialogSet) -> None:
    import socket

    from bot.app.telegram import serve_webhook

    with socket.socket() as probe:  # a free port on loopback for the bot to listen on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    emulator = BotApiEmulator()
    config = load_config(
        {"store": {"path": str(tmp_path / "s.db")},
         "telegram": {"mode": "webhook", "webhook_url": "https://example.org/hook", "webhook_secret": SECRET,
                      "webhook_listen": "127.0.0.1", "webhook_port": port}},
        {"TELEGRAM_BOT_TOKEN": "1:test"},
    )  # fmt: skip
    app = build_application(config, mini, request=EmulatorRequest(emulator))
    stop = asyncio.Event()
    running = asyncio.create_task(serve_webhook(app, config, stop))
    await until(lambda: bool(emulator.calls_to("setWebhook")))
    (registered,) = emulator.calls_to("setWebhook")
    assert registered["url"] == "https://example.org/hook" and registered["secret_token"] == SECRET
    url = f"http://127.0.0.1:{port}/hook"
    assert await post(url, emulator.user_message(ZOE, "/start"), SECRET) == 200
    await until(lambda: bool(emulator.sent_to(ZOE.id)))
    stop.set()
    await asyncio.wait_for(running, 10)

"""Webhook mode: the secret is checked before the body is used; redeliveries count once."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.adapters.telegram.webhook import MAX_UPDATE_BYTES, SECRET_HEADER, webhook_app
from bot.app.config import load_config
from bot.app.telegram import build_application
from bot.core.dialogset import DialogSet
from bot.testing.botapi import BotApiEmulator, EmulatorRequest, FakeUser

from .conftest import TOKEN, WEBHOOK_SECRET

ZOE = FakeUser(101, "Zoé", "fr")
SECRET = WEBHOOK_SECRET


@pytest.fixture
async def webhook(
    tmp_path: Path, mini: DialogSet
) -> AsyncIterator[tuple[str, BotApiEmulator, Any]]:
    emulator = BotApiEmulator()
    config = load_config(
        {"store": {"path": str(tmp_path / "w.db")}, "ops": {"port": 0},
         "telegram": {"mode": "webhook", "webhook_url": "https://example.org/tg/hook", "webhook_secret": SECRET}},
        {"TELEGRAM_BOT_TOKEN": TOKEN},
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
    assert (
        texts[0] == "Bonjour Zoé\u202f!\n\nPar où commencer\u202f?\n\nUn code d'invitation\u202f?"
    )
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
        session.post(
            url, data=b"{not json", headers={SECRET_HEADER: SECRET, "Content-Type": JSON_TYPE}
        ) as response,
    ):
        assert response.status == 400


PRIVATE = "mon secret de Zoé"  # what a person wrote: it must never reach the log
JSON_TYPE = "application/json"
NOT_UPDATES: list[tuple[str, bytes, str | None]] = [
    ("null", b"null", JSON_TYPE),
    ("a list", b"[]", JSON_TYPE),
    ("a number", b"7", JSON_TYPE),
    ("a string", json.dumps(PRIVATE).encode(), JSON_TYPE),
    ("no update_id", json.dumps({"message": PRIVATE}).encode(), JSON_TYPE),
    ("a text id", json.dumps({"update_id": "7", "message": PRIVATE}).encode(), JSON_TYPE),
    ("a boolean id", b'{"update_id": true}', JSON_TYPE),
    ("a fractional id", b'{"update_id": 7.5}', JSON_TYPE),
    ("a negative id", b'{"update_id": -1}', JSON_TYPE),
    ("an id SQLite cannot hold", b'{"update_id": %d}' % (1 << 63), JSON_TYPE),
    ("an id of 5,000 digits", b'{"update_id": ' + b"9" * 5000 + b"}", JSON_TYPE),
    ("NaN", b'{"update_id": 7, "x": NaN}', JSON_TYPE),
    ("a huge nesting", b"[" * 200_000 + b"]" * 200_000, JSON_TYPE),
    ("a nesting in an update", b'{"update_id": 7, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", JSON_TYPE),
    ("invalid UTF-8", b'{"update_id": 7, "message": {"text": "caf\xe9 ' + PRIVATE.encode() + b'"}}', JSON_TYPE),
    ("text/plain", json.dumps({"update_id": 7, "message": PRIVATE}).encode(), "text/plain"),
    ("no Content-Type", json.dumps({"update_id": 7, "message": PRIVATE}).encode(), None),
    ("an empty body", b"", JSON_TYPE),
    ("not JSON", f"{{{PRIVATE}".encode(), JSON_TYPE),
]  # fmt: skip


async def send_raw(
    url: str, body: Any, content_type: str | None, secret: str = SECRET
) -> tuple[int, str]:
    headers = {SECRET_HEADER: secret}
    if content_type is not None:
        headers["Content-Type"] = content_type
    async with (
        aiohttp.ClientSession(skip_auto_headers=["Content-Type"]) as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


def no_trace_of_the_bodies(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The refusals logged; fails on a traceback, an error, or a word of a body."""
    for record in caplog.records:
        assert record.exc_info is None, f"a traceback was logged: {record.getMessage()}"
        assert record.levelno < logging.ERROR, record.getMessage()
        assert PRIVATE not in record.getMessage() and "caf" not in record.getMessage()
    return [r.getMessage() for r in caplog.records if r.name == "bot.adapters.telegram.webhook"]


async def test_a_body_that_is_no_update_gets_400_and_a_log_line_without_it(
    webhook: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url, emulator, app = webhook
    caplog.set_level(logging.INFO)
    for name, body, content_type in NOT_UPDATES:
        caplog.clear()
        status, _ = await send_raw(url, body, content_type)
        assert status == 400, name
        (line,) = no_trace_of_the_bodies(caplog)
        assert f"webhook body of {len(body)} bytes refused with 400: " in line, (name, line)
    assert await app.bot_data["vie"].store.inbox.waiting() == []
    ok = emulator.user_message(ZOE, "/start")  # a charset changes nothing: JSON is UTF-8
    assert (await send_raw(url, json.dumps(ok), "application/json; charset=utf-8"))[0] == 200
    await until(lambda: len(emulator.sent_to(ZOE.id)) == 1)


async def test_a_body_over_the_limit_gets_413_declared_or_not(
    webhook: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url, _, app = webhook
    caplog.set_level(logging.INFO)
    words = f'{{"update_id": 7, "message": {{"text": "{PRIVATE}'.encode()
    big = words + b" " * (MAX_UPDATE_BYTES - len(words)) + b'"}}'
    assert (await send_raw(url, io.BytesIO(big), JSON_TYPE))[0] == 413
    (line,) = no_trace_of_the_bodies(caplog)
    assert f"webhook body of {len(big)} bytes refused with 413" in line

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: the count stops it
        yield words
        for _ in range(2 * MAX_UPDATE_BYTES // 65536):
            yield b" " * 65536

    caplog.clear()
    assert (await send_raw(url, chunked(), JSON_TYPE))[0] == 413
    (line,) = no_trace_of_the_bodies(caplog)
    assert "webhook body of ? bytes refused with 413" in line
    # declared too large: answered at once, before a byte of the body is sent
    reader, writer = await raw_connection(url)
    writer.write(request_head(url, {"Content-Length": str(10 * MAX_UPDATE_BYTES)}))
    assert (await asyncio.wait_for(reader.readline(), 2)).split()[1] == b"413"
    writer.close()
    assert await app.bot_data["vie"].store.inbox.waiting() == []


async def raw_connection(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = url.split("/")[2].split(":")
    return await asyncio.open_connection(host, int(port))


def request_head(url: str, headers: dict[str, str]) -> bytes:
    path = "/" + url.split("/", 3)[3]
    lines = [f"POST {path} HTTP/1.1", "Host: x", f"{SECRET_HEADER}: {SECRET}"]
    lines += ["Content-Type: application/json", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_a_broken_chunked_body_gets_400_and_one_line(
    webhook: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url, _, _ = webhook
    reader, writer = await raw_connection(url)
    writer.write(request_head(url, {"Transfer-Encoding": "chunked"}))
    writer.write(f"zz {PRIVATE}\r\n{PRIVATE}\r\n0\r\n\r\n".encode())
    status_line = await asyncio.wait_for(reader.readline(), 2)
    writer.close()
    assert status_line.split()[1] == b"400"
    no_trace_of_the_bodies(caplog)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "aiohttp.server"]
    assert line == "malformed HTTP request (BadHttpMessage): answered 400"


async def test_serve_webhook_registers_and_stops(tmp_path: Path, mini: DialogSet) -> None:
    import socket

    from bot.app.telegram import serve_webhook

    with socket.socket() as probe:  # a free port on loopback for the bot to listen on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    emulator = BotApiEmulator()
    config = load_config(
        {"store": {"path": str(tmp_path / "s.db")}, "ops": {"port": 0},
         "telegram": {"mode": "webhook", "webhook_url": "https://example.org/hook", "webhook_secret": SECRET,
                      "webhook_listen": "127.0.0.1", "webhook_port": port}},
        {"TELEGRAM_BOT_TOKEN": TOKEN},
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

"""Webhook mode: a client that sends slowly, or nothing, is cut off within a bound.

Raw sockets on 127.0.0.1 against the real endpoint, with timeouts of 0.2 s so that no
test waits long: each one measures when the server closed the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bot.adapters.telegram.webhook import SECRET_HEADER, Timeouts, webhook_app

SECRET = "s3cret-Token_42"
SHORT = Timeouts(headers=0.2, body=0.2, linger=0.1)
BOUND = 1.0  # seconds: every limit above, with room for a slow machine


def nobody() -> Any:
    raise AssertionError("no update should reach the bot")


@pytest.fixture
async def port() -> AsyncIterator[int]:
    runner = web.AppRunner(webhook_app(nobody, SECRET, "/hook", timeouts=SHORT))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield runner.addresses[0][1]
    await runner.cleanup()


def head(*extra: str, secret: str = SECRET, length: int = 200) -> bytes:
    lines = ["POST /hook HTTP/1.1", "Host: 127.0.0.1", f"{SECRET_HEADER}: {secret}",
             "Content-Type: application/json", f"Content-Length: {length}", *extra]  # fmt: skip
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def trickle(writer: asyncio.StreamWriter, data: bytes, pause: float = 0.05) -> None:
    """Send `data` a byte at a time, until done or the server has closed."""
    with contextlib.suppress(ConnectionError):
        for i in range(len(data)):
            writer.write(data[i : i + 1])
            await writer.drain()
            await asyncio.sleep(pause)


async def until_closed(reader: asyncio.StreamReader, started: float) -> tuple[float, bytes]:
    """How long the server kept the connection open, and what it answered."""
    answer = b""
    with contextlib.suppress(ConnectionError):
        while chunk := await asyncio.wait_for(reader.read(4096), 3 * BOUND):
            answer += chunk
    return time.monotonic() - started, answer


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return reader, writer, time.monotonic()


async def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    reader, writer, started = await connect(port)
    took, answer = await until_closed(reader, started)
    writer.close()
    assert answer == b"" and SHORT.headers * 0.9 <= took < BOUND


async def test_headers_sent_slowly_are_cut_off(port: int) -> None:
    reader, writer, started = await connect(port)
    sending = asyncio.create_task(trickle(writer, head()))  # 4 s at this pace
    took, answer = await until_closed(reader, started)
    sending.cancel()
    writer.close()
    assert answer == b"" and took < BOUND, "closed before the headers were in"


async def test_a_body_sent_slowly_gets_408_and_is_cut_off(port: int) -> None:
    reader, writer, started = await connect(port)
    writer.write(head())
    sending = asyncio.create_task(trickle(writer, json.dumps({"update_id": 1}).encode()))
    took, answer = await until_closed(reader, started)
    sending.cancel()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ") and b"Connection: close" in answer
    assert SHORT.body * 0.9 <= took < BOUND


async def test_without_the_secret_a_slow_body_is_not_waited_for(port: int) -> None:
    reader, writer, started = await connect(port)
    writer.write(head(secret="wrong"))
    sending = asyncio.create_task(trickle(writer, b"x" * 200))
    took, answer = await until_closed(reader, started)
    sending.cancel()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 403 ") and took < BOUND


async def test_an_idle_keep_alive_connection_is_closed(port: int) -> None:
    reader, writer, _ = await connect(port)
    writer.write(head(length=2) + b"[]")  # answered 400, the connection kept alive
    status = await asyncio.wait_for(reader.readline(), BOUND)
    assert status.startswith(b"HTTP/1.1 400 ")
    took, _ = await until_closed(reader, time.monotonic())
    writer.close()
    assert SHORT.headers * 0.9 <= took < BOUND


async def test_a_prompt_client_is_served_on_one_connection(port: int) -> None:
    reader, writer, _ = await connect(port)
    for _ in range(3):  # within the limits: nothing is cut
        writer.write(head(length=4) + b"null")
        assert (await asyncio.wait_for(reader.readline(), BOUND)).startswith(b"HTTP/1.1 400 ")
        while (await asyncio.wait_for(reader.readline(), BOUND)) != b"\r\n":
            pass  # the headers
        await asyncio.wait_for(reader.readexactly(len("null, not a JSON object\n")), BOUND)
        await asyncio.sleep(SHORT.headers / 2)
    writer.close()


def test_the_defaults_bound_every_step() -> None:
    limits = Timeouts()
    assert 0 < limits.headers <= 10 and 0 < limits.body <= 15 and 0 < limits.linger <= 5

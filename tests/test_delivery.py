"""Sending under limits with retries (no network)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.adapters.telegram.ratelimit import SendLimiter


class Sleeps:
    """A fake sleep: records how long the limiter wanted to wait, waits for nothing."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def flaky(*errors: Exception) -> Any:
    """A Bot API call that fails with `errors` in turn, then succeeds."""
    pending = list(errors)
    calls: list[int] = []

    async def call() -> dict[str, Any]:
        calls.append(1)
        if pending:
            raise pending.pop(0)
        return {"ok": True}

    call.calls = calls  # type: ignore[attr-defined]
    return call


async def send(limiter: SendLimiter, call: Any, chat_id: int | None = 1) -> Any:
    data = {} if chat_id is None else {"chat_id": chat_id}
    return await limiter.process_request(call, (), {}, "sendMessage", data, None)


async def test_429_waits_retry_after_then_succeeds() -> None:
    sleeps = Sleeps()
    limiter = SendLimiter(sleep=sleeps)
    call = flaky(RetryAfter(timedelta(seconds=3)))
    assert await send(limiter, call) == {"ok": True}
    assert sleeps.calls == [pytest.approx(3.1)] and len(call.calls) == 2


async def test_network_errors_back_off_exponentially() -> None:
    sleeps = Sleeps()
    limiter = SendLimiter(sleep=sleeps)
    call = flaky(NetworkError("reset"), NetworkError("reset"), NetworkError("reset"))
    assert await send(limiter, call) == {"ok": True}
    assert sleeps.calls == [0.25, 0.5, 1.0]


async def test_bad_request_is_not_retried() -> None:
    limiter = SendLimiter(sleep=Sleeps())
    call = flaky(BadRequest("Bad Request: chat not found"))
    with pytest.raises(BadRequest):
        await send(limiter, call)
    assert len(call.calls) == 1


async def test_gives_up_after_max_retries() -> None:
    limiter = SendLimiter(max_retries=2, sleep=Sleeps())
    call = flaky(*(RetryAfter(timedelta(seconds=1)) for _ in range(5)))
    with pytest.raises(RetryAfter):
        await send(limiter, call)
    assert len(call.calls) == 3


async def test_calls_without_chat_are_never_held_back() -> None:
    limiter = SendLimiter(overall_per_second=1, per_chat_per_second=0.001, per_chat_burst=1)
    call = flaky()
    for _ in range(20):  # would take hours if limited
        await asyncio.wait_for(send(limiter, call, chat_id=None), 1)
    assert len(call.calls) == 20


async def test_per_chat_burst_then_pacing() -> None:
    limiter = SendLimiter(overall_per_second=1000, per_chat_per_second=0.5, per_chat_burst=3)
    call = flaky()
    for _ in range(3):  # a short burst goes through at once
        await asyncio.wait_for(send(limiter, call, chat_id=7), 0.5)
    with pytest.raises(TimeoutError):  # the fourth must wait about 2 s
        await asyncio.wait_for(send(limiter, call, chat_id=7), 0.2)
    await asyncio.wait_for(send(limiter, call, chat_id=8), 0.5)  # another chat is free

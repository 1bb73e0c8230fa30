"""Outgoing calls under Telegram's limits, with retries that lose nothing.

- about 30 messages/s for the whole bot and about 1/s per chat on average (short bursts
  allowed), both configurable;
- a 429 holds back that chat's sends for `retry_after` seconds, then the call is retried;
- network errors and 5xx answers are retried with exponential back-off.
Calls without a `chat_id` (answering a button press, getUpdates) are never held back.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.runtime.metrics import Metrics

log = logging.getLogger(__name__)
Result = bool | dict[str, Any] | list[dict[str, Any]]
Sleep = Callable[[float], Awaitable[None]]
_MAX_BACKOFF = 10.0


def retry_after_seconds(exc: RetryAfter) -> float:
    """`retry_after` in seconds, whether PTB gives an int or (PTB_TIMEDELTA) a timedelta."""
    with warnings.catch_warnings():
        # PTB 22 warns that the int form will become a timedelta; both are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class SendLimiter(BaseRateLimiter[int]):
    """A global limiter, one limiter per chat, and the retry policy."""

    def __init__(
        self,
        overall_per_second: float = 30,
        per_chat_per_second: float = 1,
        per_chat_burst: int = 3,
        max_retries: int = 5,
        sleep: Sleep = asyncio.sleep,
        overall_burst: float | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics
        # Never more than `overall_per_second` calls in ANY one-second window: a leaky
        # bucket of capacity C draining at r lets C + r through in a second, so r =
        # limit - C. C = 2 % of the rate (as before), but at least 2 (1 below 4/s): two
        # replies close together both go at once, and the sustained pace stays above 0.9
        # of the limit (28/s at 30/s; 294/s at 300/s).
        floor = 2.0 if overall_per_second >= 4 else 1.0
        capacity = overall_burst or max(floor, overall_per_second * 0.02)
        drain = max(overall_per_second - capacity, overall_per_second / 2)
        self._overall = AsyncLimiter(capacity, capacity / drain)
        self._chat_rate, self._chat_burst = per_chat_per_second, per_chat_burst
        self._chats: dict[int | str, AsyncLimiter] = {}
        self._max_retries = max_retries
        self._sleep = sleep
        # chats Telegram asked us to leave alone for a while (429): their sends wait
        self._held: dict[int | str, asyncio.Event] = {}

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _chat_limiter(self, chat_id: int | str) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            if len(self._chats) > 10_000:  # forget idle chats
                self._chats = {
                    k: v for k, v in self._chats.items() if not v.has_capacity(self._chat_burst)
                }
            limiter = AsyncLimiter(self._chat_burst, self._chat_burst / self._chat_rate)
            self._chats[chat_id] = limiter
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        chat_id = data.get("chat_id")
        retries = self._max_retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            try:
                if chat_id is None:
                    return await callback(*args, **kwargs)
                while (held := self._held.get(chat_id)) is not None:
                    await held.wait()
                async with self._chat_limiter(chat_id), self._overall:
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if self.metrics is not None:
                    self.metrics.throttled.inc()
                if attempt == retries or chat_id is None:
                    raise
                wait = retry_after_seconds(exc)
                log.warning("429 on %s for chat %s: its sends wait %.1f s", endpoint, chat_id, wait)
                # Only this chat waits: the global pace already keeps the bot as a whole
                # under its limit, and pausing everyone would stall every other person.
                held = self._held.setdefault(chat_id, asyncio.Event())
                try:
                    await self._sleep(float(wait) + 0.1)
                finally:
                    self._held.pop(chat_id, None)
                    held.set()
            except BadRequest:
                raise  # our mistake, not the network's: retrying would not help
            except (NetworkError, TimedOut) as exc:
                if attempt == retries:
                    raise
                delay = min(_MAX_BACKOFF, 0.25 * 2**attempt)
                log.warning("network error on %s (%s): retry in %.2f s", endpoint, exc, delay)
                await self._sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises

"""The operations endpoint: `/healthz` for a supervisor or a load balancer, `/metrics`
for Prometheus. Served on its own local address (`[ops]`), in polling and webhook mode.

`/healthz` answers 200 when the store answers, Telegram answered recently (else it asks
Telegram once, `getMe`), updates still arrive (polling: `getUpdates` succeeded within
the silence) and no message has waited unsent longer than `stuck_after`; 503 otherwise,
with the details as JSON: the backlog of the inbox, the outbox and the reminders, and the
age of the oldest unsent message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.runtime.clock import utc_now
from bot.runtime.metrics import Metrics
from bot.store.interfaces import Backlog

log = logging.getLogger(__name__)
STORE_TIMEOUT = 2.0  # seconds: a store slower than this is reported as not answering
PING_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Vitals:
    """What the endpoint reads from the running bot."""

    backlog: Callable[[], Awaitable[Backlog]]
    ping_telegram: Callable[[], Awaitable[object]]  # a cheap call (getMe); raises if down
    metrics: Metrics
    silence: timedelta = timedelta(minutes=5)  # longer without an answer: ask Telegram
    clock: Callable[[], datetime] = utc_now
    stuck_after: timedelta = timedelta(minutes=15)  # an unsent message this old: unhealthy
    # polling: when getUpdates last succeeded (None before the first poll, or webhook mode)
    polled: Callable[[], datetime | None] | None = None


class Health:
    """The checks behind /healthz (and the gauges refreshed before each /metrics)."""

    def __init__(self, vitals: Vitals) -> None:
        self.vitals = vitals
        self._ping: asyncio.Task[object] | None = None  # one getMe shared by every check

    async def store(self) -> tuple[Backlog | None, str]:
        try:
            backlog = await asyncio.wait_for(self.vitals.backlog(), STORE_TIMEOUT)
        except TimeoutError:
            return None, f"no answer within {STORE_TIMEOUT:g} s"
        except Exception as exc:
            return None, type(exc).__name__
        m = self.vitals.metrics
        m.inbox_waiting.set(backlog.inbox_waiting)
        m.outbox_rows.set(backlog.outbox_rows)
        m.nudges_due.set(backlog.nudges_pending)
        return backlog, "ok"

    async def telegram(self) -> tuple[bool, str]:
        """Reachable if it answered within `silence`; else one getMe decides (checks at
        the same time share it). In polling mode, getUpdates must also have succeeded
        within `silence`: getMe answers even while polling is refused (409)."""
        v = self.vitals
        now = v.clock()
        polled = v.polled() if v.polled is not None else None
        if v.polled is not None and polled is not None and now - polled > v.silence:
            return (
                False,
                f"no updates received since {polled:%Y-%m-%d %H:%M:%S}Z (getUpdates fails)",
            )
        last = v.metrics.last_ok
        if last is not None and now - last <= v.silence:
            return True, f"answered {(now - last).total_seconds():.0f} s ago"
        if self._ping is None or self._ping.done():
            self._ping = asyncio.ensure_future(asyncio.wait_for(v.ping_telegram(), PING_TIMEOUT))
        try:
            await asyncio.shield(self._ping)
        except Exception as exc:
            seen = "never" if last is None else f"last answered at {last:%Y-%m-%d %H:%M:%S}Z"
            return False, f"unreachable ({type(exc).__name__}); {seen}"
        v.metrics.telegram_answered(v.clock())
        return True, "answered just now"

    async def report(self) -> tuple[bool, dict[str, Any]]:
        (backlog, store_says), (telegram_ok, telegram_says) = await asyncio.gather(
            self.store(), self.telegram()
        )
        oldest = backlog.oldest_outbox if backlog is not None else None
        stuck = oldest is not None and self.vitals.clock() - oldest > self.vitals.stuck_after
        healthy = backlog is not None and telegram_ok and not stuck
        body: dict[str, Any] = {
            "status": "ok" if healthy else "unhealthy",
            "store": store_says,
            "telegram": telegram_says,
            "sender": "messages waiting too long" if stuck else "ok",
        }
        if backlog is not None:
            oldest = backlog.oldest_outbox
            body["backlog"] = {
                "inbox_waiting": backlog.inbox_waiting,
                "outbox_rows": backlog.outbox_rows,
                "oldest_unsent_seconds": (
                    None
                    if oldest is None
                    else round((self.vitals.clock() - oldest).total_seconds(), 1)
                ),
                "nudges_pending": backlog.nudges_pending,
            }
        return healthy, body


def ops_app(vitals: Vitals) -> web.Application:
    """GET /healthz and GET /metrics; nothing else."""
    health = Health(vitals)

    async def healthz(request: web.Request) -> web.Response:
        started = time.perf_counter()
        healthy, body = await health.report()
        body["checked_in_ms"] = round((time.perf_counter() - started) * 1000, 1)
        if not healthy:
            log.warning("health check: %s (store: %s)", body["telegram"], body["store"])
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics(request: web.Request) -> web.Response:
        await health.store()  # the backlog gauges, as of now
        payload = generate_latest(vitals.metrics.registry)
        return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def serve_ops(vitals: Vitals, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start the endpoint; the runner (to clean up) and the port really bound."""
    runner = web.AppRunner(ops_app(vitals), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1]
    return runner, int(bound)

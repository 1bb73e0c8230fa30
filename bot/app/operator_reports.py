"""The operators' reports carried out: /stats and /unknown read the store, the chart is
drawn off the event loop, and the operators feature turns the result into messages.

Registered on `Conversations.carry_out`, so that the pure feature only asks (an effect)
and the turn that asked sends the answer. The chart is drawn in a thread: matplotlib
takes a few hundred milliseconds, which must not hold back anybody else's turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.app.stats_chart import funnel_png
from bot.app.stats_text import funnel_table
from bot.core.events import Send
from bot.core.turn import Turn
from bot.features.operators.reports import (
    UNKNOWN_SHOWN,
    ShowStats,
    ShowUnknown,
    stats_replies,
    unknown_replies,
)
from bot.store.funnel import read_funnel
from bot.store.opening import SqlStore

log = logging.getLogger(__name__)
Handler = Callable[[Any, Turn], Awaitable[list[Send]]]


def report_handlers(store: SqlStore) -> dict[type, Handler]:
    """What carries out /stats and /unknown, on this store."""

    async def stats(asked: ShowStats, turn: Turn) -> list[Send]:
        funnel = await read_funnel(store.fetch_all, turn.now, asked.since)
        if funnel.empty or funnel.total.started == 0:
            return stats_replies(turn, asked, "", None)
        lang = turn.state.lang
        table = funnel_table(funnel, lang)
        try:
            chart: bytes | None = await asyncio.to_thread(funnel_png, funnel, lang)
        except Exception:  # the table alone still answers; the log says why
            log.exception("the /stats chart could not be drawn")
            chart = None
        return stats_replies(turn, asked, table, chart)

    async def unknown(asked: ShowUnknown, turn: Turn) -> list[Send]:
        # nothing older than store.keep_unknown is kept (the bot prunes it hourly)
        since = turn.now - min(asked.since, store.keep_unknown)
        rows = await store.unknown_texts(since, UNKNOWN_SHOWN)
        return unknown_replies(turn, asked, rows)

    return {ShowStats: stats, ShowUnknown: unknown}

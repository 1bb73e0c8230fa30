"""Webhook mode: an aiohttp endpoint that checks Telegram's secret before reading the body,
stores the update in the inbox, and only then answers 200.

A button press is answered in the HTTP response itself (Telegram runs the method it
finds there): the person's spinner stops without a call of our own.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from bot.adapters.telegram.polling import inbox_rows
from bot.runtime.clock import utc_now
from bot.store.interfaces import Inbox

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1 << 20


class Receiver(Protocol):
    """What the endpoint hands updates to (the running bot's pieces)."""

    @property
    def inbox(self) -> Inbox: ...

    def stored(self) -> None:
        """New updates are in the inbox."""

    def answered_in_response(self, query_id: str) -> None:
        """This press was answered by the HTTP response."""

    async def direct(self, batch: list[dict[str, Any]]) -> None:
        """Handle updates the inbox could not store."""


def webhook_app(
    receiver: Callable[[], Receiver],
    secret: str,
    path: str,
    clock: Callable[[], datetime] = utc_now,
) -> web.Application:
    """POST `path`: 403 without the right secret (the body is never read), 400 for a
    body that is no update, else stored, then 200."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook call without the right secret from %s: refused", request.remote)
            return web.Response(status=403, text="Forbidden")
        try:
            data = await request.json()
        except ValueError:
            return web.Response(status=400, text="Bad Request")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return web.Response(status=400, text="Bad Request")
        target = receiver()
        try:
            new = await target.inbox.add(inbox_rows([data]), clock())
        except Exception as exc:
            log.error("could not store update %s (%s): handled without the inbox",
                      data["update_id"], type(exc).__name__)  # fmt: skip
            await target.direct([data])
            return web.Response(status=200, text="OK")
        query = data.get("callback_query")
        query_id = query.get("id") if isinstance(query, dict) else None
        if new and isinstance(query_id, str):
            target.answered_in_response(query_id)
        if new:
            target.stored()
        if new and isinstance(query_id, str):
            return web.json_response(
                {"method": "answerCallbackQuery", "callback_query_id": query_id}
            )
        return web.Response(status=200, text="OK")

    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app.router.add_post(path, receive)
    return app

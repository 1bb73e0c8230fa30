"""Webhook mode: an aiohttp endpoint that checks Telegram's secret before reading the body."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1 << 20


def webhook_app(
    application: Application[Any, Any, Any, Any, Any, Any], secret: str, path: str
) -> web.Application:
    """POST `path`: 403 without the right secret (the body is never read), else queue it."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook call without the right secret from %s: refused", request.remote)
            return web.Response(status=403, text="Forbidden")
        try:
            data = await request.json()
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400, text="Bad Request")
        await application.update_queue.put(update)
        return web.Response(status=200, text="OK")

    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app.router.add_post(path, receive)
    return app

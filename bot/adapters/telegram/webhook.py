"""Webhook mode: an aiohttp endpoint that checks Telegram's secret before reading the body,
stores the update in the inbox, and only then answers 200.

A button press is answered in the HTTP response itself (Telegram runs the method it
finds there): the person's spinner stops without a call of our own.

Nothing a client sends can make it answer 500 or hold a connection for long: a body
that is no update gets a 4xx and one log line with its size and why (never the body: it
may hold what someone wrote), and each step of a request has a deadline (`Timeouts`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn, Protocol

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.adapters.telegram.polling import inbox_rows
from bot.runtime.clock import utc_now
from bot.store.interfaces import Inbox

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1 << 20
LARGEST_UPDATE_ID = (1 << 63) - 1  # what an SQLite INTEGER holds
JSON_KINDS = {type(None): "null", bool: "a boolean", int: "a number", float: "a number",
              str: "a string", list: "an array"}  # fmt: skip


@dataclass(frozen=True)
class Timeouts:
    """How long one connection may keep the server waiting, in seconds.

    `headers`: from the opening of the connection, or the end of the answer before,
    until the headers of a request are all in. It is aiohttp's keep-alive timeout, which
    aiohttp (3.14.5 and later) arms when the connection opens and does not restart for
    bytes that arrive: so it is also how long an idle connection stays open.
    `body`: from the end of the headers to the last byte of the body.
    `linger`: after an answer given before the whole body was read (403, 408, 413),
    how long aiohttp still reads and drops the rest before closing, so that the client
    receives the answer rather than a reset connection.
    """

    headers: float = 5.0
    body: float = 10.0
    linger: float = 2.0


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


class HttpLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server log for the endpoint, where a request too malformed to reach it
    (a bad header line, a broken chunked body) is one line naming the kind of error:
    no traceback, and not aiohttp's message, which quotes the bytes received (a header
    with the secret, a piece of a body). Anything else is logged as aiohttp logs it."""

    def log(
        self,
        level: int,
        msg: object,
        *args: object,
        exc_info: Any = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(exc_info, HttpProcessingError):
            self.logger.log(
                min(level, logging.WARNING),  # aiohttp logs some (TLS on plain HTTP) as debug
                "malformed HTTP request (%s): answered %s",
                type(exc_info).__name__,
                exc_info.code,
            )
            return
        super().log(level, msg, *args, exc_info=exc_info, **kwargs)


def refused(status: int, size: int | None, reason: str) -> web.Response:
    """The answer to a body that is no update, and its log line: size and reason only."""
    shown = "?" if size is None else str(size)
    log.warning("webhook body of %s bytes refused with %d: %s", shown, status, reason)
    response = web.Response(status=status, text=f"{reason}\n")
    if status in (408, 413):
        response.force_close()  # what is left of the body is not worth reading
    return response


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def parse_update(body: bytes) -> tuple[dict[str, Any] | None, str]:
    """The update in `body`, or None and why it is none."""
    if not body:
        return None, "empty body"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8"
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        return None, "JSON nested too deep"
    except ValueError:  # JSONDecodeError, an integer of more than 4,300 digits, NaN
        return None, "not JSON"
    if not isinstance(data, dict):
        return None, f"{JSON_KINDS.get(type(data), 'a value')}, not a JSON object"
    update_id = data.get("update_id")
    if type(update_id) is not int or not 0 <= update_id <= LARGEST_UPDATE_ID:
        return None, "no update_id that is a whole number"
    return data, ""


def webhook_app(
    receiver: Callable[[], Receiver],
    secret: str,
    path: str,
    clock: Callable[[], datetime] = utc_now,
    *,
    timeouts: Timeouts = Timeouts(),
) -> web.Application:
    """POST `path`: 403 without the right secret (the body is never read), 4xx for a
    body that is no update (400; 408 too slow; 413 too large), else stored, then 200.

    The timeouts of the connections are set on the application (`handler_args`), so
    they hold whichever runner serves it."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook call without the right secret from %s: refused", request.remote)
            return web.Response(status=403, text="Forbidden")
        declared = request.content_length
        if declared is not None and declared > MAX_UPDATE_BYTES:
            return refused(413, declared, f"larger than {MAX_UPDATE_BYTES} bytes")
        if request.content_type != "application/json":
            return refused(400, declared, "Content-Type is not application/json")
        try:
            async with asyncio.timeout(timeouts.body):
                body = await request.read()
        except TimeoutError:
            return refused(408, declared, f"body not received within {timeouts.body:g} s")
        except web.HTTPRequestEntityTooLarge:  # no Content-Length, or it lied
            return refused(413, None, f"larger than {MAX_UPDATE_BYTES} bytes")
        except web.RequestPayloadError:  # a broken chunked or compressed encoding
            return refused(400, declared, "body could not be read")
        data, reason = parse_update(body)
        if data is None:
            return refused(400, len(body), reason)
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

    app = web.Application(
        client_max_size=MAX_UPDATE_BYTES,
        handler_args={
            "keepalive_timeout": timeouts.headers,
            "lingering_time": timeouts.linger,
            "logger": HttpLog(logging.getLogger("aiohttp.server")),
        },
    )
    app.router.add_post(path, receive)
    return app

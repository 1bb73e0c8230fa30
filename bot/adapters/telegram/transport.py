"""The outbox's transport to Telegram: one row, one Bot API call, and what became of it.

PTB's exceptions are turned into the sender's outcomes here, so that the sender knows
nothing of Telegram: blocked (403), refused for good (400: nothing would change if it
were sent again), unavailable (network errors, 5xx, 429 after the limiter's retries).

The calls go through `Bot.do_api_request` with plain JSON: still PTB's HTTP layer, rate
limiter and errors, but the `Message` Telegram returns is not turned into objects (the
sender needs none of it). Files (rare) go through PTB's `send_document`, which uploads
them as multipart/form-data; a PNG or JPEG (the operators' charts) through `send_photo`,
so that it shows as a picture in the chat rather than a file to open. Parsing those replies, keyboards included, was the largest
cost of a turn: `docs/benchmarks.md`.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.warnings import PTBUserWarning

from bot.core.events import ButtonView, Document, Send
from bot.core.render import to_plain
from bot.runtime.sender import Outcome
from bot.store.queues import Queued

log = logging.getLogger(__name__)
# Asked for on purpose as raw JSON (see above): PTB's advice to use its typed methods.
warnings.filterwarnings(
    "ignore",
    message="Please use 'Bot.(sendMessage|editMessageReplyMarkup)'",
    category=PTBUserWarning,
)
CHOSEN = "vie:chosen"  # the data of the ✓ button that marks a choice: pressing it does nothing
# Telegram's limit on files a bot sends; past it the answer is a 413, which PTB reports as
# a network error (an outage, to the sender): such a file is refused before it is sent.
DOCUMENT_LIMIT = 50 * 1000 * 1000
PHOTO_LIMIT = 10 * 1000 * 1000  # a photo sent by upload (Bot API: 10 MB)
PHOTO_TYPES = frozenset({"image/png", "image/jpeg"})


def chosen_keyboard(label: str) -> dict[str, Any]:
    """What is left under a message once one of its buttons was pressed: that choice."""
    return {"inline_keyboard": [[{"text": f"✓ {label}"[:64], "callback_data": CHOSEN}]]}


def keyboard_json(buttons: tuple[ButtonView, ...]) -> dict[str, Any] | None:
    """One button per row (labels are sentences; rows of one read best on phones)."""
    if not buttons:
        return None
    rows = [
        [{"text": b.label, "url": b.url} if b.url else {"text": b.label, "callback_data": b.data}]
        for b in buttons
    ]
    return {"inline_keyboard": rows}


class TelegramTransport:
    """`Transport` over PTB's Bot (its rate limiter paces and retries each call)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def deliver(self, row: Queued) -> Outcome:
        try:
            if row.kind == "mark":
                await self._mark(row)
            else:
                await self.send(row.chat_id, row.as_send())
        except Forbidden:
            return Outcome.BLOCKED
        except BadRequest as exc:
            if row.kind == "mark":  # too old to edit, already edited: nothing to show
                return Outcome.SENT
            log.warning("Telegram refused outbox row %s for chat %s: %s", row.id, row.chat_id, exc)
            return Outcome.REFUSED
        except TelegramError as exc:  # network errors, 5xx, 429 past the retries
            log.info("outbox row %s for chat %s not sent yet: %s", row.id, row.chat_id, exc)
            return Outcome.UNAVAILABLE
        return Outcome.SENT

    async def send(self, chat_id: int, reply: Send) -> None:
        """One message in HTML (or a file: `_send_document`); as plain text if Telegram
        refuses our HTML (a bug of ours must not keep the person from their answer)."""
        if reply.document is not None:
            await self._send_document(chat_id, reply, reply.document)
            return
        params: dict[str, Any] = {"chat_id": chat_id, "text": reply.text, "parse_mode": "HTML"}
        if (markup := keyboard_json(reply.buttons)) is not None:
            params["reply_markup"] = markup
        try:
            await self.bot.do_api_request("sendMessage", api_kwargs=params)
        except BadRequest as exc:
            if "can't parse entities" not in str(exc).lower():
                raise
            log.error("HTML refused in chat %s (%s): sent as plain text", chat_id, exc)
            del params["parse_mode"]
            params["text"] = to_plain(reply.text)
            await self.bot.do_api_request("sendMessage", api_kwargs=params)

    async def _send_document(self, chat_id: int, reply: Send, document: Document) -> None:
        """A file (a picture for PNG and JPEG), its text as caption: PTB uploads it as
        multipart/form-data (files are rare: the `Message` it parses costs nothing)."""
        photo = document.mime_type in PHOTO_TYPES and len(document.content) <= PHOTO_LIMIT
        if len(document.content) > DOCUMENT_LIMIT:
            raise BadRequest(f"file {document.name!r} is larger than Telegram accepts")
        markup = keyboard_json(reply.buttons)
        extra = {"reply_markup": markup} if markup is not None else None
        caption = reply.text or None

        async def upload(text: str | None, parse_mode: str | None) -> None:
            if photo:
                await self.bot.send_photo(
                    chat_id, document.content, filename=document.name,
                    caption=text, parse_mode=parse_mode, api_kwargs=extra,
                )  # fmt: skip
            else:
                await self.bot.send_document(
                    chat_id, document.content, filename=document.name,
                    caption=text, parse_mode=parse_mode, api_kwargs=extra,
                )  # fmt: skip

        try:
            await upload(caption, "HTML" if caption else None)
        except BadRequest as exc:
            if caption is None or "can't parse entities" not in str(exc).lower():
                raise
            log.error("HTML refused in chat %s (%s): caption sent as plain text", chat_id, exc)
            await upload(to_plain(caption), None)

    async def _mark(self, row: Queued) -> None:
        params = {
            "chat_id": row.chat_id,
            "message_id": int(row.body["mark"]),
            "reply_markup": chosen_keyboard(str(row.body["label"])),
        }
        await self.bot.do_api_request("editMessageReplyMarkup", api_kwargs=params)

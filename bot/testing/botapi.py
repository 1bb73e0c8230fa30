"""A Bot API emulator: enough of Telegram's HTTP API to run the real PTB stack offline.

`BotApiEmulator` is the core (state, call log, client helpers); `EmulatorRequest` plugs it
into python-telegram-bot in-process as its `BaseRequest`, so that everything above the
HTTP layer (parsing, handlers, rate limiter, errors) is the real thing. Responses have
Bot API shapes: `is_bot`, dates in seconds, edits return the `Message`, errors carry a
real status code, `description` and, for 429, `parameters.retry_after`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from telegram.request import BaseRequest, RequestData

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}
JSON = dict[str, Any]


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


@dataclass(frozen=True, slots=True)
class FakeUser:
    id: int
    first_name: str = "Zoé"
    language_code: str | None = "fr"

    def as_json(self) -> JSON:
        out: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            out["language_code"] = self.language_code
        return out


class _HtmlCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.error = self.error or f'unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.error = self.error or f'unexpected end tag "{tag}"'


def check_html(text: str) -> str | None:
    parser = _HtmlCheck()
    parser.feed(text)
    parser.close()
    if parser.stack and not parser.error:
        return f'unclosed start tag "{parser.stack[-1]}"'
    return parser.error


@dataclass
class BotApiEmulator:
    """The server side: chats, messages, pending updates, a log of every call."""

    bot_id: int = 7000001
    bot_username: str = "vie_coach_test_bot"
    calls: list[tuple[str, JSON]] = field(default_factory=list)
    messages: dict[int, list[JSON]] = field(default_factory=dict)  # chat id -> bot messages
    blocked_chats: set[int] = field(default_factory=set)
    _updates: list[JSON] = field(default_factory=list)
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _query_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- the API ---------------------------------------------------------------------------
    async def call(self, method: str, params: Mapping[str, Any]) -> tuple[int, JSON]:
        """Answer one Bot API call as Telegram would: (HTTP status, JSON body)."""
        self.calls.append((method, dict(params)))
        handler = getattr(self, f"api_{method}", None)
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            result = (
                handler(**params)
                if not asyncio.iscoroutinefunction(handler)
                else await handler(**params)
            )
        except ApiError as exc:
            body: JSON = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return exc.status, body
        except TypeError as exc:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}
        return 200, {"ok": True, "result": result}

    def _bot(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "VIE Coach",
            "username": self.bot_username,
        }

    def api_getMe(self) -> JSON:
        return {
            **self._bot(),
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def api_setMyCommands(self, commands: Any, **_: Any) -> bool:
        return True

    def api_deleteWebhook(self, **_: Any) -> bool:
        return True

    def api_answerCallbackQuery(self, callback_query_id: str, **_: Any) -> bool:
        return True

    def api_sendMessage(
        self,
        chat_id: int | str,
        text: str,
        parse_mode: str | None = None,
        reply_markup: Any = None,
        **_: Any,
    ) -> JSON:
        chat = int(chat_id)
        if chat in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        if parse_mode == "HTML" and (problem := check_html(text)):
            raise ApiError(400, f"Bad Request: can't parse entities: {problem}")
        markup = _markup(reply_markup)
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": self._bot(),
            "text": text,
        }
        if markup:
            message["reply_markup"] = markup
        self.messages.setdefault(chat, []).append(message)
        return message

    def api_editMessageReplyMarkup(
        self, chat_id: int | str, message_id: int, reply_markup: Any = None, **_: Any
    ) -> JSON:
        message = self._find(int(chat_id), int(message_id))
        markup = _markup(reply_markup)
        if message.get("reply_markup") == markup or (not markup and "reply_markup" not in message):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup of the message",
            )
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return message

    async def api_getUpdates(
        self, offset: int = 0, timeout: float = 0, limit: int = 100, **_: Any
    ) -> list[JSON]:
        offset = int(offset)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and float(timeout) > 0:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), float(timeout))
        return self._updates[: int(limit)]

    def _find(self, chat: int, message_id: int) -> JSON:
        for message in self.messages.get(chat, []):
            if message["message_id"] == message_id:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    # -- the client side: what people do ----------------------------------------------------
    def _push(self, update: JSON) -> JSON:
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._new_update.set()
        return update

    def user_message(self, user: FakeUser, text: str | None = None, **content: Any) -> JSON:
        """A private message from `user` (text, or e.g. sticker={...}), as a pending update."""
        message: JSON = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": user.as_json(),
            **content,
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
                ]
        return self._push({"message": message})

    def user_press(self, user: FakeUser, message: JSON, data: str) -> JSON:
        """`user` presses a button carrying `data` under the bot's `message`."""
        return self._push(
            {
                "callback_query": {
                    "id": str(next(self._query_ids)),
                    "from": user.as_json(),
                    "chat_instance": str(user.id),
                    "message": message,
                    "data": data,
                }
            }
        )

    def sent_to(self, chat_id: int) -> list[JSON]:
        return self.messages.get(chat_id, [])

    def last_with_buttons(self, chat_id: int) -> JSON:
        return next(m for m in reversed(self.sent_to(chat_id)) if m.get("reply_markup"))

    @staticmethod
    def buttons(message: JSON) -> list[tuple[str, str]]:
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        return [(b["text"], b["callback_data"]) for row in rows for b in row]


def _markup(raw: Any) -> JSON | None:
    if raw is None or raw == "":
        return None
    markup = json.loads(raw) if isinstance(raw, str) else raw
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if len(button.get("callback_data", "").encode()) > 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup if markup.get("inline_keyboard") else None


class EmulatorRequest(BaseRequest):
    """PTB's HTTP layer replaced by direct calls into a BotApiEmulator."""

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params: JSON = {}
        if request_data is not None:
            params = dict(request_data.parameters)
        status, body = await self.emulator.call(api_method, params)
        return status, json.dumps(body).encode()

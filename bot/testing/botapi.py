"""A Bot API emulator: enough of Telegram's HTTP API to run the real PTB stack offline.

`BotApiEmulator` is the core (state, call log, faults, rate limits, client helpers). Two
transports share its `call`: `EmulatorRequest` plugs it into python-telegram-bot in-process
as its `BaseRequest`, and `serve()` puts it behind a real HTTP server on 127.0.0.1, so that
PTB's own `HTTPXRequest` (or any HTTP client) can talk to it. Responses have Bot API shapes:
`is_bot`, dates in seconds, edits return the `Message`, errors carry a real status code,
`description` and, for 429, `parameters.retry_after`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.telegram_html import check_html
from bot.testing.botapi_files import Files
from bot.testing.botapi_people import FakeUser, People
from bot.testing.botapi_request import EmulatorRequest
from bot.testing.botapi_server import ApiError, ConnectionDropped, Faults, Upload, serve

__all__ = [
    "ApiError",
    "BotApiEmulator",
    "ConnectionDropped",
    "EmulatorRequest",
    "FakeUser",
    "Upload",
    "check_html",
    "serve",
]

JSON = dict[str, Any]
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


@dataclass
class BotApiEmulator(People, Files, Faults):
    """The server side: chats, messages, pending updates, a log of every call.

    Faults and flood limits (`fail_chat`, `fail_next`, `drop_next`, `fail_ratio`, `limit`,
    `clock`, `throttled`) come from `Faults`.
    """

    token: str | None = None  # None: any token is accepted
    bot_id: int = 7000001
    bot_username: str = "vie_coach_test_bot"
    calls: list[tuple[str, JSON]] = field(default_factory=list)
    messages: dict[int, list[JSON]] = field(default_factory=dict)  # chat id -> bot messages
    files: dict[str, Upload] = field(default_factory=dict)  # file_id -> what was uploaded
    commands: dict[tuple[str, str], list[JSON]] = field(default_factory=dict)
    webhook_url: str = ""
    webhook_secret: str | None = None
    awaited: dict[int, asyncio.Future[JSON]] = field(default_factory=dict)
    _updates: list[JSON] = field(default_factory=list)
    # getUpdates calls answered 409 because another was waiting (two pollers)
    poll_conflicts: int = 0
    _polling: int = 0
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _query_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _file_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- the core ----------------------------------------------------------------------------
    async def call(
        self, method: str, params: Mapping[str, Any], token: str | None = None
    ) -> tuple[int, JSON]:
        """Answer one Bot API call as Telegram would: (HTTP status, JSON body).

        Raises `ConnectionDropped` when a `drop_next` applies: the transport must then fail
        the way a network does rather than answer.
        """
        self.calls.append((method, dict(params)))
        try:
            if self.token is not None and token != self.token:
                raise ApiError(401, "Unauthorized")
            self._on_arrival(method)
            handler = getattr(self, f"api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            try:  # bind first so that a bug inside a handler is not reported as a bad call
                inspect.signature(handler).bind(**params)
            except TypeError as exc:
                raise ApiError(400, f"Bad Request: {exc}") from None
            if "chat_id" in params:
                self._on_chat(method, params["chat_id"])
            result = handler(**params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as exc:
            self.throttled += exc.status == 429
            return exc.status, exc.body()
        return 200, {"ok": True, "result": result}

    def calls_to(self, method: str) -> list[JSON]:
        """The parameters of every call to `method`, oldest first."""
        return [params for name, params in self.calls if name == method]

    # -- the API -----------------------------------------------------------------------------
    def _bot(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "VIE Coach",
            "username": self.bot_username,
        }

    def api_getMe(self, **_: Any) -> JSON:
        return {
            **self._bot(),
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def api_setMyCommands(
        self, commands: list[JSON], scope: JSON | None = None, language_code: str = "", **_: Any
    ) -> bool:
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        self.commands[_scope_key(scope), language_code] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def api_getMyCommands(
        self, scope: JSON | None = None, language_code: str = "", **_: Any
    ) -> list[JSON]:
        return self.commands.get((_scope_key(scope), language_code), [])

    def api_deleteMyCommands(
        self, scope: JSON | None = None, language_code: str = "", **_: Any
    ) -> bool:
        self.commands.pop((_scope_key(scope), language_code), None)
        return True

    def api_setWebhook(self, url: str, secret_token: str | None = None, **_: Any) -> bool:
        self.webhook_url, self.webhook_secret = url, secret_token or None
        return True

    def api_deleteWebhook(self, drop_pending_updates: bool = False, **_: Any) -> bool:
        self.webhook_url, self.webhook_secret = "", None
        if drop_pending_updates:
            self._updates.clear()
        return True

    def api_getWebhookInfo(self, **_: Any) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def api_answerCallbackQuery(self, callback_query_id: str, **_: Any) -> bool:
        return True

    def api_sendChatAction(self, chat_id: int | str, action: str, **_: Any) -> bool:
        return True

    def api_leaveChat(self, chat_id: int | str, **_: Any) -> bool:
        return True

    def api_sendMessage(
        self,
        chat_id: int | str,
        text: str,
        parse_mode: str | None = None,
        reply_markup: Any = None,
        **_: Any,
    ) -> JSON:
        _check_text(text, parse_mode)
        return self._sent(int(chat_id), {"text": text}, reply_markup)

    def _sent(self, chat: int, content: JSON, reply_markup: Any) -> JSON:
        """A message the bot sent to `chat`, recorded as Telegram returns it."""
        markup = _markup(reply_markup)  # refused before anything is recorded
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private" if chat > 0 else "group"},
            "from": self._bot(),
            **content,
        }
        if markup:
            message["reply_markup"] = markup
        self.messages.setdefault(chat, []).append(message)
        if (waiting := self.awaited.pop(chat, None)) is not None and not waiting.done():
            waiting.set_result(message)
        return message

    def next_message(self, chat_id: int) -> asyncio.Future[JSON]:
        """Resolved by the next message the bot sends to `chat_id` (benchmarks)."""
        future: asyncio.Future[JSON] = asyncio.get_running_loop().create_future()
        self.awaited[chat_id] = future
        return future

    def api_editMessageText(
        self,
        chat_id: int | str,
        message_id: int,
        text: str,
        parse_mode: str | None = None,
        reply_markup: Any = None,
        **_: Any,
    ) -> JSON:
        message = self._find(int(chat_id), int(message_id))
        _check_text(text, parse_mode)
        # Telegram drops the keyboard of a text edit that does not restate it.
        markup = _markup(reply_markup)
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        message["text"] = text
        return self._edited(message, markup)

    def api_editMessageReplyMarkup(
        self, chat_id: int | str, message_id: int, reply_markup: Any = None, **_: Any
    ) -> JSON:
        message = self._find(int(chat_id), int(message_id))
        markup = _markup(reply_markup)
        if message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        return self._edited(message, markup)

    async def api_getUpdates(
        self, offset: int = 0, timeout: float = 0, limit: int = 100, **_: Any
    ) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if self._polling:  # Telegram serves one poller at a time
            self.poll_conflicts += 1
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one "
                "bot instance is running",
            )
        offset = int(offset)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._polling += 1
        try:
            if not self._updates and float(timeout) > 0:
                self._new_update.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), float(timeout))
        finally:
            self._polling -= 1
        return self._updates[: int(limit)]

    def _find(self, chat: int, message_id: int) -> JSON:
        for message in self.messages.get(chat, []):
            if message["message_id"] == message_id:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    def _edited(self, message: JSON, markup: JSON | None) -> JSON:
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return message

    def sent_to(self, chat_id: int) -> list[JSON]:
        return self.messages.get(chat_id, [])

    def last_with_buttons(self, chat_id: int) -> JSON:
        return next(m for m in reversed(self.sent_to(chat_id)) if m.get("reply_markup"))

    @staticmethod
    def buttons(message: JSON) -> list[tuple[str, str]]:
        """(label, callback data) of the message's pressable buttons."""
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        return [
            (b["text"], b["callback_data"]) for row in rows for b in row if "callback_data" in b
        ]

    @staticmethod
    def links(message: JSON) -> list[tuple[str, str]]:
        """(label, url) of the message's link buttons."""
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        return [(b["text"], b["url"]) for row in rows for b in row if "url" in b]


def _scope_key(scope: JSON | None) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


def _check_text(text: str, parse_mode: str | None) -> None:
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text) > 4096:
        raise ApiError(400, "Bad Request: message is too long")
    if parse_mode == "HTML" and (problem := check_html(text)):
        raise ApiError(400, f"Bad Request: can't parse entities: {problem}")


def _markup(raw: Any) -> JSON | None:
    if raw is None or raw == "":
        return None
    try:
        markup = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if ("callback_data" in button) == ("url" in button):
                raise ApiError(400, 'Bad Request: can\'t find field "callback_data" or "url"')
            if len(button.get("callback_data", "").encode()) > 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"^(https?|tg)://\S+$", button["url"]):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
    return markup if markup.get("inline_keyboard") else None

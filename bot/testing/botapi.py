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
from html.parser import HTMLParser
from typing import Any

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from bot.testing.botapi_server import ApiError, ConnectionDropped, Faults, serve

__all__ = [
    "ApiError",
    "BotApiEmulator",
    "ConnectionDropped",
    "EmulatorRequest",
    "FakeUser",
    "check_html",
    "serve",
]

JSON = dict[str, Any]
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
    | {"tg-spoiler", "span", "blockquote", "tg-emoji"}
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


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
    """Why Telegram would refuse `text` with parse_mode HTML, or None."""
    parser = _HtmlCheck()
    parser.feed(text)
    parser.close()
    if parser.stack and not parser.error:
        return f'unclosed start tag "{parser.stack[-1]}"'
    return parser.error


@dataclass
class BotApiEmulator(Faults):
    """The server side: chats, messages, pending updates, a log of every call.

    Faults and flood limits (`fail_chat`, `fail_next`, `drop_next`, `fail_ratio`, `limit`,
    `clock`, `throttled`) come from `Faults`.
    """

    token: str | None = None  # None: any token is accepted
    bot_id: int = 7000001
    bot_username: str = "vie_coach_test_bot"
    calls: list[tuple[str, JSON]] = field(default_factory=list)
    messages: dict[int, list[JSON]] = field(default_factory=dict)  # chat id -> bot messages
    commands: dict[tuple[str, str], list[JSON]] = field(default_factory=dict)
    webhook_url: str = ""
    webhook_secret: str | None = None
    awaited: dict[int, asyncio.Future[JSON]] = field(default_factory=dict)
    _updates: list[JSON] = field(default_factory=list)
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _query_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

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
        chat = int(chat_id)
        _check_text(text, parse_mode)
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private" if chat > 0 else "group"},
            "from": self._bot(),
            "text": text,
        }
        if markup := _markup(reply_markup):
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

    def _edited(self, message: JSON, markup: JSON | None) -> JSON:
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return message

    # -- the client side: what people do ----------------------------------------------------
    def push(self, content: JSON) -> JSON:
        """Queue an update of any shape (even one Telegram would not send); its id is added."""
        return self._push(content)

    def _push(self, update: JSON) -> JSON:
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._new_update.set()
        return update

    def _message(self, user: FakeUser, chat: JSON, text: str | None, **content: Any) -> JSON:
        message: JSON = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user.as_json(),
            **content,
        }
        if text is not None:
            message.update(_with_text(text))
        return message

    def user_message(self, user: FakeUser, text: str | None = None, **content: Any) -> JSON:
        """A private message from `user` (text, or e.g. sticker={...}), as a pending update."""
        return self._push({"message": self._message(user, _private(user), text, **content)})

    def group_message(self, user: FakeUser, chat_id: int, text: str) -> JSON:
        """A message from `user` in the group `chat_id` (negative, as Telegram's are)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = {"id": chat_id, "type": "group", "title": f"Group {-chat_id}"}
        return self._push({"message": self._message(user, chat, text)})

    def user_edits(self, user: FakeUser, message: JSON, new_text: str) -> JSON:
        """`user` edits their `message` (or the update holding it) to say `new_text`."""
        original = message.get("message", message)
        edited = {k: v for k, v in original.items() if k != "entities"}
        edited.update(_with_text(new_text), edit_date=int(time.time()))
        edited["from"] = user.as_json()
        return self._push({"edited_message": edited})

    def user_blocks(self, user: FakeUser) -> JSON:
        """`user` blocks the bot: a my_chat_member update, and sends to them now fail 403."""
        self.blocked_chats.add(user.id)
        return self._member_update(user, "member", "kicked")

    def user_unblocks(self, user: FakeUser) -> JSON:
        """`user` unblocks the bot (restarting it): the reverse my_chat_member update."""
        self.restore_chat(user.id)
        return self._member_update(user, "kicked", "member")

    def _member_update(self, user: FakeUser, old: str, new: str) -> JSON:
        def member(status: str) -> JSON:
            # A kicked member needs until_date; 0 means forever.
            extra = {"until_date": 0} if status == "kicked" else {}
            return {"user": self._bot(), "status": status, **extra}

        change = {
            "chat": _private(user),
            "from": user.as_json(),
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return self._push({"my_chat_member": change})

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


def _private(user: FakeUser) -> JSON:
    return {"id": user.id, "type": "private", "first_name": user.first_name}


def _with_text(text: str) -> JSON:
    out: JSON = {"text": text}
    if text.startswith("/"):
        out["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return out


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
        # PTB calls {base_url}{token}/{method}, base_url ending in "/bot" by default.
        head, api_method = url.rsplit("/", 1)
        token = head.rsplit("/", 1)[-1].removeprefix("bot")
        params = dict(request_data.parameters) if request_data is not None else {}
        try:
            status, body = await self.emulator.call(api_method, params, token)
        except ConnectionDropped as exc:
            raise NetworkError(f"emulator dropped the connection to {exc}") from exc
        return status, json.dumps(body).encode()

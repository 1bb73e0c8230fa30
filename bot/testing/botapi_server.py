"""The Bot API emulator's server machinery: errors, faults, flood limits, and HTTP serving.

Nothing here knows a Bot API method: `botapi.BotApiEmulator` builds on `Faults` and is what
`serve()` puts behind aiohttp. aiohttp is a dev dependency, so it is imported only by
`serve()` itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from aiohttp import web

JSON = dict[str, Any]
RATE_LIMITED = frozenset(
    {"sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
)
# Form and query values are all strings: Telegram reads them by parameter type, so only these
# names are converted (a text "123" or "[1]" stays a string).
INTEGER_PARAMS = frozenset(
    {"chat_id", "from_chat_id", "user_id", "message_id", "reply_to_message_id", "offset"}
    | {"message_thread_id", "timeout", "limit", "max_connections", "cache_time"}
)
BOOLEAN_PARAMS = frozenset(
    {"disable_notification", "protect_content", "drop_pending_updates", "show_alert"}
    | {"disable_web_page_preview", "allow_sending_without_reply", "revoke_messages"}
)
JSON_PARAMS = frozenset(
    {"reply_markup", "commands", "allowed_updates", "scope", "entities", "caption_entities"}
    | {"link_preview_options", "reply_parameters", "media", "results", "message_ids"}
)


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description, and retry_after for 429s."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after

    @classmethod
    def of(cls, status: int, description: str | None, retry_after: int | None) -> ApiError:
        """An error worded as Telegram words it when no description is given."""
        if status != 429:
            return cls(status, description or HTTPStatus(status).phrase)
        retry_after = max(1, retry_after or 1)  # Telegram always says when to come back
        return cls(429, description or f"Too Many Requests: retry after {retry_after}", retry_after)

    def body(self) -> JSON:
        out: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.status == 429 and self.retry_after is not None:
            out["parameters"] = {"retry_after": self.retry_after}
        return out


class ConnectionDropped(Exception):
    """The call must get no answer at all: transports fail the way a network does."""


class Upload(bytes):
    """A file uploaded with a call (multipart/form-data): its bytes, with the file name
    and media type its part carried. Equal to its bytes, as a plain value would be."""

    name: str
    mime_type: str

    def __new__(
        cls, content: bytes, name: str = "", mime_type: str = "application/octet-stream"
    ) -> Upload:
        upload = super().__new__(cls, content)
        upload.name, upload.mime_type = name, mime_type
        return upload

    def __repr__(self) -> str:
        return f"Upload({self.name!r}, {len(self)} bytes, {self.mime_type!r})"


@dataclass
class _Window:
    """At most `capacity` calls in any sliding `period` seconds."""

    capacity: int
    period: float
    times: deque[float] = field(default_factory=deque)

    @classmethod
    def per_second(cls, rate: float, burst: int) -> _Window:
        # Below one call per second the window stretches so that it still holds one call.
        period = max(1.0, 1.0 / rate)
        return cls(max(burst, int(rate * period + 1e-9)), period)

    def wait(self, now: float) -> float:
        """Seconds until one more call fits (0 if it fits now)."""
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        return 0.0 if len(self.times) < self.capacity else self.times[0] + self.period - now


def chat_key(chat_id: Any) -> int | str:
    """A chat id as compared across transports: an int, or an "@channel" name."""
    with contextlib.suppress(ValueError):
        return int(chat_id)
    return str(chat_id)


@dataclass(kw_only=True)
class Faults:
    """What can go wrong on Telegram's side: injected errors, dropped calls, flood limits."""

    clock: Callable[[], float] = field(default_factory=lambda: time.monotonic)
    throttled: int = 0  # 429 answers, from the flood limits or injected
    blocked_chats: set[int] = field(default_factory=set)  # shorthand for the default fail_chat
    failing_chats: dict[int | str, ApiError] = field(default_factory=dict)
    _scripted: dict[str, deque[ApiError]] = field(default_factory=dict)
    _ratios: dict[str, tuple[float, ApiError, random.Random]] = field(default_factory=dict)
    _drops: dict[str, int] = field(default_factory=dict)
    _limits: tuple[_Window | None, tuple[float, int] | None] = (None, None)
    _chat_windows: dict[int | str, _Window] = field(default_factory=dict)
    # (start, end, kind, methods or None for all)
    _outages: list[tuple[float, float, str, frozenset[str] | None]] = field(default_factory=list)
    held: int = 0  # calls waiting, unperformed, because of `hold`
    _holds: dict[str, asyncio.Event] = field(default_factory=dict)

    def hold(self, *methods: str) -> None:
        """Calls to `methods` wait, unperformed and unanswered, until `release`. Over
        HTTP (`serve`), a held call whose connection closes (its client died) is never
        performed: what a client killed then had sent never reached "Telegram"."""
        for method in methods:
            self._holds.setdefault(method, asyncio.Event())

    def release(self, *methods: str) -> None:
        """Held calls (of `methods`, or all) go on, in the order they came."""
        for method in methods or tuple(self._holds):
            gate = self._holds.pop(method, None)
            if gate is not None:
                gate.set()

    async def held_back(self, method: str) -> None:
        """Wait while `method` is held."""
        while (gate := self._holds.get(method)) is not None:
            self.held += 1
            try:
                await gate.wait()
            finally:
                self.held -= 1

    def outage(self, *phases: tuple[float, str], methods: Iterable[str] | None = None) -> None:
        """Telegram down from now on, phase after phase: (seconds, "500") answers every
        call with a 500, (seconds, "drop") closes every connection unanswered; only for
        `methods` if given (updates may keep coming while sends fail)."""
        start, only = self.clock(), None if methods is None else frozenset(methods)
        for seconds, kind in phases:
            self._outages.append((start, start + seconds, kind, only))
            start += seconds

    @property
    def down(self) -> bool:
        now = self.clock()
        return any(start <= now < end for start, end, _, _ in self._outages)

    def limit(
        self, global_per_second: float | None, per_chat_per_second: float | None, burst: int = 1
    ) -> None:
        """Enforce flood limits on sends and edits (None: no such limit).

        A scope (the bot, or one chat_id) allows max(burst, rate) calls in any sliding second;
        a call over it answers 429 with the seconds until the oldest counted call leaves the
        window, and is not performed. Refused calls do not count.
        """
        overall = _Window.per_second(global_per_second, burst) if global_per_second else None
        per_chat = (per_chat_per_second, burst) if per_chat_per_second else None
        self._limits, self._chat_windows = (overall, per_chat), {}

    def fail_chat(
        self,
        chat_id: int | str,
        status: int = 403,
        description: str = "Forbidden: bot was blocked by the user",
    ) -> None:
        """Every call aimed at `chat_id` fails this way, until `restore_chat`."""
        self.failing_chats[chat_key(chat_id)] = ApiError.of(status, description, None)

    def restore_chat(self, chat_id: int | str) -> None:
        key = chat_key(chat_id)
        self.failing_chats.pop(key, None)
        if isinstance(key, int):
            self.blocked_chats.discard(key)

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls to `method` answer this error (a 429 defaults to 1 s)."""
        error = ApiError.of(status, description, retry_after)
        self._scripted.setdefault(method, deque()).extend([error] * times)

    def drop_next(self, method: str, times: int = 1) -> None:
        """The next `times` calls to `method` get no answer: the connection is closed."""
        self._drops[method] = self._drops.get(method, 0) + times

    def fail_ratio(
        self, method: str, ratio: float, status: int = 429, retry_after: int = 1, seed: int = 0
    ) -> None:
        """Answer about `ratio` of the calls to `method` with an error, reproducibly."""
        self._ratios[method] = (ratio, ApiError.of(status, None, retry_after), random.Random(seed))

    def _on_arrival(self, method: str) -> None:
        """Faults that strike whatever the call says: outages, drops, scripted, random."""
        now = self.clock()
        for start, end, kind, only in self._outages:
            if start <= now < end and (only is None or method in only):
                if kind == "drop":
                    raise ConnectionDropped(method)
                raise ApiError(500, "Internal Server Error")
        if self._drops.get(method, 0) > 0:
            self._drops[method] -= 1
            raise ConnectionDropped(method)
        if scripted := self._scripted.get(method):
            raise scripted.popleft()
        if method in self._ratios:
            ratio, error, rng = self._ratios[method]
            if rng.random() < ratio:
                raise error

    def _on_chat(self, method: str, chat_id: Any) -> None:
        """Faults of a well-formed call aimed at a chat: failing chats, then flood limits."""
        chat = chat_key(chat_id)
        if chat in self.failing_chats:
            raise self.failing_chats[chat]
        if chat in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        overall, per_chat = self._limits
        if method not in RATE_LIMITED or (overall is None and per_chat is None):
            return
        windows = [overall] if overall else []
        if per_chat:
            windows.append(self._chat_windows.setdefault(chat, _Window.per_second(*per_chat)))
        now = self.clock()
        if (wait := max(w.wait(now) for w in windows)) > 0:
            raise ApiError.of(429, None, math.ceil(wait))
        for window in windows:
            window.times.append(now)


def decode_params(pairs: Iterable[tuple[str, Any]]) -> JSON:
    """Form or query values as Telegram reads them: by parameter name, not by their look."""
    out: JSON = {}
    for name, value in pairs:
        out[name] = _decode(name, value) if isinstance(value, str) else value
    return out


def _decode(name: str, value: str) -> Any:
    if name in INTEGER_PARAMS:
        with contextlib.suppress(ValueError):
            return int(value)
        if name == "timeout":  # PTB may send a float number of seconds
            with contextlib.suppress(ValueError):
                return float(value)
    elif name in BOOLEAN_PARAMS and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    elif name in JSON_PARAMS:
        with contextlib.suppress(ValueError):
            parsed = json.loads(value)
            if isinstance(parsed, dict | list):
                return parsed
    return value


class Api(Protocol):
    async def call(
        self, method: str, params: Mapping[str, Any], token: str | None = None
    ) -> tuple[int, JSON]: ...


@contextlib.asynccontextmanager
async def serve(api: Api) -> AsyncIterator[str]:
    """Serve `api` over HTTP on 127.0.0.1 (a free port); yields PTB's `base_url`.

    `async with serve(emulator) as url:` then `Bot(token, base_url=url)`: PTB calls
    `{url}{token}/{method}`, by POST (form-encoded, or multipart with files) or GET.
    """
    from aiohttp import web

    async def handle(request: web.Request) -> web.StreamResponse:
        return await _handle(api, request)

    app = web.Application()
    for verb in ("GET", "POST"):
        app.router.add_route(verb, "/bot{token}/{method}", handle)
    # handler_cancellation: a long poll whose client hung up must not outlive it; the short
    # shutdown_timeout bounds the wait for one still running at exit (tests must not stall).
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.1)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        yield f"http://127.0.0.1:{port}/bot"
    finally:
        await runner.cleanup()


async def _handle(api: Api, request: web.Request) -> web.StreamResponse:
    from aiohttp import web

    params = decode_params(request.query.items())
    if request.method == "POST" and request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                error = ApiError(400, "Bad Request: the JSON body must be an object")
                return web.json_response(error.body(), status=400)
            params.update(body)
        else:  # form-encoded or multipart; uploaded files arrive as `Upload`s
            form = await request.post()
            fields = (
                (k, _upload(v) if isinstance(v, web.FileField) else v) for k, v in form.items()
            )
            params.update(decode_params(fields))
    method = request.match_info["method"]
    if isinstance(api, Faults):
        await api.held_back(method)  # cancelled, unperformed, if the client hangs up
        if request.transport is None or request.transport.is_closing():
            return web.Response()  # the caller is gone: never performed
    try:
        status, body = await api.call(method, params, request.match_info["token"])
    except ConnectionDropped:
        if request.transport is not None:
            request.transport.abort()  # no status line, no body: the client sees a dead peer
        return web.Response()
    return web.json_response(body, status=status)


def _upload(part: web.FileField) -> Upload:
    return Upload(part.file.read(), part.filename or "", part.content_type)

"""PTB handlers: Telegram updates in, engine events; the engine's messages to the outbox."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.adapters.telegram.convert import message_event
from bot.adapters.telegram.transport import CHOSEN, TelegramTransport
from bot.core.events import Event, Press, Send, Unsupported
from bot.core.state import new_state
from bot.core.turn import render_message
from bot.errors import StoreError, VieError
from bot.runtime.clock import utc_now
from bot.runtime.conversation import Conversations, Person, Route
from bot.runtime.inbox import Unreadable
from bot.store.interfaces import Inbox
from bot.store.queues import Outgoing, Waiting

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
_PRESSED_MEMORY = 50_000


class HandlingFailed(VieError):
    """A handler raised (a bug, or the store failing outside a turn)."""


class TelegramBot:
    """Carries events from Telegram to the engine, and its messages to the outbox."""

    def __init__(
        self, conversations: Conversations, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.conversations = conversations
        self.store = conversations.store
        self.clock = clock
        # messages whose buttons were already used: a second tap is a double tap
        self._pressed: OrderedDict[tuple[int, int], None] = OrderedDict()
        # updates a turn answered (their inbox row is settled by the turn itself)
        self._answered: set[int] = set()
        # presses already answered by the webhook's HTTP response
        self.answered_presses: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._failed: dict[int, str] = {}  # update id -> the error its handler raised
        self.stored: Callable[[], None] = lambda: None  # new updates are in the inbox

    @property
    def inbox(self) -> Inbox:
        return self.store.inbox

    def answered_in_response(self, query_id: str) -> None:
        self.answered_presses.add(query_id)

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        self.app = app
        self.bot = app.bot
        self.transport = TelegramTransport(app.bot)
        private = filters.ChatType.PRIVATE
        app.add_handler(CallbackQueryHandler(self.on_press))
        app.add_handler(ChatMemberHandler(self.on_member, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_handler(MessageHandler(private & filters.UpdateType.MESSAGE, self.on_message))
        app.add_handler(MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, self.on_edited))
        app.add_handler(MessageHandler(~private & filters.UpdateType.MESSAGES, self.on_group))
        app.add_error_handler(self.on_error)

    # -- from the inbox ---------------------------------------------------------------------
    async def from_inbox(self, row: Waiting) -> bool:
        """Read one stored update and handle it; True if a turn answered it (its inbox
        row is then settled). Raises `Unreadable` for an update of an unknown shape."""
        try:
            update = Update.de_json(json.loads(row.body), self.bot)
        except Exception as exc:  # PTB raises anything from KeyError to TypeError
            raise Unreadable(type(exc).__name__) from None
        await self.app.process_update(update)
        failed = self._failed.pop(row.update_id, None)
        if failed is not None:
            raise HandlingFailed(failed)
        return self._answered_now(row.update_id)

    async def direct(self, batch: Sequence[dict[str, Any]]) -> None:
        """Updates the inbox could not store: handled at once (their people are told to
        send again if the store refuses their turn too)."""
        for raw in batch:
            try:
                update = Update.de_json(raw, self.bot)
            except Exception:
                log.warning("update %s cannot be read: skipped", raw.get("update_id"))
                continue
            await self.app.process_update(update)
            self._answered_now(update.update_id)
            self._failed.pop(update.update_id, None)

    def _answered_now(self, update_id: int) -> bool:
        if update_id in self._answered:
            self._answered.discard(update_id)
            return True
        return False

    async def close(self) -> None:
        """Wait for the presses being answered, then close the store."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.store.close()

    @staticmethod
    def person(update: Update) -> Person | None:
        user = update.effective_user
        return None if user is None else Person(user.id, user.first_name, user.language_code)

    async def on_message(self, update: Update, context: Context) -> None:
        person, message = self.person(update), update.message
        if person is not None and message is not None:
            await self.handle(update, person, Route(message.chat_id), message_event(message))

    async def on_edited(self, update: Update, context: Context) -> None:
        person, message = self.person(update), update.edited_message
        if person is not None and message is not None:
            await self.handle(update, person, Route(message.chat_id), Unsupported("edited"))

    async def on_press(self, update: Update, context: Context) -> None:
        query, person = update.callback_query, self.person(update)
        if query is None or person is None:
            return
        if query.id in self.answered_presses:
            self.answered_presses.discard(query.id)
        else:  # at once, beside the turn, so that the client stops its spinner
            self._beside(self._answer(query.id, person.user_id))
        message = query.message
        chat_id = message.chat.id if message is not None else person.user_id
        if message is not None and message.chat.type != ChatType.PRIVATE:
            return
        if query.data == CHOSEN:  # the ✓ left under an earlier choice
            return
        route = Route(chat_id)
        if message is not None:
            key = (chat_id, message.message_id)
            if key in self._pressed:
                log.info("double tap on message %s by user %s: ignored", key[1], person.user_id)
                return
            self._pressed[key] = None
            if len(self._pressed) > _PRESSED_MEMORY:
                self._pressed.popitem(last=False)
            label = pressed_label(message, query.data or "")
            if label is not None:
                route = Route(chat_id, before=(Outgoing.mark(chat_id, message.message_id, label),))
        await self.handle(update, person, route, Press(query.data or ""))

    async def _answer(self, query_id: str, user_id: int) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as exc:  # too old to answer: the press still counts
            log.info("could not answer callback query of user %s: %s", user_id, exc)

    def _beside(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def on_member(self, update: Update, context: Context) -> None:
        change = update.my_chat_member
        if change is None:
            return
        status = change.new_chat_member.status
        if change.chat.type == ChatType.PRIVATE:
            blocked = status == ChatMember.BANNED
            await self.store.set_blocked(change.chat.id, blocked)
            log.info("user %s %s the bot", change.chat.id, "blocked" if blocked else "unblocked")
        elif status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR):
            await self._tell_group(change.chat.id, change.from_user.language_code)

    async def on_group(self, update: Update, context: Context) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is not None:
            await self._tell_group(chat.id, user.language_code if user else None)

    async def _tell_group(self, chat_id: int, language_code: str | None) -> None:
        """In a group the bot says once that it talks only in private, then stays quiet."""
        now = self.clock()
        if not await self.store.tell_group_once(chat_id, now):
            return
        text = self._render("group_only", language_code, now)
        await self.store.outbox.add([Outgoing.message(chat_id, Send(text), "notice")], now)
        self.conversations.queued()

    def _render(self, key: str, language_code: str | None, now: datetime) -> str:
        lang = self.conversations.language_for(language_code)
        return render_message(self.conversations.dialogs, new_state(0, lang, now), key, now)

    async def handle(self, update: Update, person: Person, route: Route, event: Event) -> None:
        now = self.clock()
        route = Route(route.chat_id, update.update_id, route.before)
        try:
            replies = await self.conversations.handle(person, event, now, route)
        except StoreError as exc:
            # Nothing of the turn was stored: the person is asked to send it again,
            # directly (the outbox is in the store that just failed).
            log.error("update %s from user %s not stored: %s", update.update_id,
                      person.user_id, type(exc.__cause__ or exc).__name__)  # fmt: skip
            text = self._render("not_stored", person.language_code, now)
            try:
                await self.transport.send(route.chat_id, Send(text))
            except TelegramError as sent:
                log.warning("could not tell user %s either: %s", person.user_id, sent)
            return
        self._answered.add(update.update_id)
        log.info("update %s from user %s: %s -> %d message(s)", update.update_id, person.user_id,
                 type(event).__name__, len(replies))  # fmt: skip

    async def on_error(self, update: object, context: Context) -> None:
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        if isinstance(error, TelegramError):
            log.warning("Telegram error on update %s: %s", update_id, error)
        else:
            log.error("error while handling update %s: %s", update_id, type(error).__name__)
        if update_id is not None:  # the inbox sets it aside rather than call it done
            self._failed[update_id] = type(error).__name__


def pressed_label(message: object, data: str) -> str | None:
    """The label of the button with this data under the message (None if not found)."""
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", ()):
        for button in row:
            if button.callback_data == data:
                return str(button.text)
    return None

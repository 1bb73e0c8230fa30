"""PTB handlers: Telegram updates in, engine events; the engine's messages out."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from telegram import Bot, ChatMember, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.adapters.telegram.convert import keyboard, message_event
from bot.core.events import Event, Press, Send, Unsupported
from bot.core.render import to_plain
from bot.core.state import new_state
from bot.core.turn import render_message
from bot.runtime.clock import utc_now
from bot.runtime.conversation import Conversations, Person

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
_PRESSED_MEMORY = 50_000


class TelegramBot:
    """Carries events from Telegram to the engine and its messages back."""

    def __init__(
        self, conversations: Conversations, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.conversations = conversations
        self.store = conversations.store
        self.clock = clock
        # messages whose buttons were already used: a second tap is a double tap
        self._pressed: OrderedDict[tuple[int, int], None] = OrderedDict()

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        self.bot = app.bot
        private = filters.ChatType.PRIVATE
        app.add_handler(CallbackQueryHandler(self.on_press))
        app.add_handler(ChatMemberHandler(self.on_member, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_handler(MessageHandler(private & filters.UpdateType.MESSAGE, self.on_message))
        app.add_handler(MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, self.on_edited))
        app.add_handler(MessageHandler(~private & filters.UpdateType.MESSAGES, self.on_group))
        app.add_error_handler(self.on_error)

    @staticmethod
    def person(update: Update) -> Person | None:
        user = update.effective_user
        return None if user is None else Person(user.id, user.first_name, user.language_code)

    async def on_message(self, update: Update, context: Context) -> None:
        person, message = self.person(update), update.message
        if person is not None and message is not None:
            await self.handle(update, context, person, message.chat_id, message_event(message))

    async def on_edited(self, update: Update, context: Context) -> None:
        person, message = self.person(update), update.edited_message
        if person is not None and message is not None:
            await self.handle(update, context, person, message.chat_id, Unsupported("edited"))

    async def on_press(self, update: Update, context: Context) -> None:
        query, person = update.callback_query, self.person(update)
        if query is None or person is None:
            return
        try:  # at once, so the client stops its spinner
            await query.answer()
        except TelegramError as exc:  # too old to answer: the press still counts
            log.info("could not answer callback query of user %s: %s", person.user_id, exc)
        message = query.message
        chat_id = message.chat.id if message is not None else person.user_id
        if message is not None and message.chat.type != ChatType.PRIVATE:
            return
        if message is not None:
            key = (chat_id, message.message_id)
            if key in self._pressed:
                log.info("double tap on message %s by user %s: ignored", key[1], person.user_id)
                return
            self._pressed[key] = None
            if len(self._pressed) > _PRESSED_MEMORY:
                self._pressed.popitem(last=False)
            await self._remove_keyboard(context, chat_id, message.message_id)
        await self.handle(update, context, person, chat_id, Press(query.data or ""))

    async def _remove_keyboard(self, context: Context, chat_id: int, message_id: int) -> None:
        """The pressed message keeps its text but loses its buttons: no second press."""
        try:
            await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                log.info("could not remove the keyboard of message %s: %s", message_id, exc)

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
            await self._tell_group(context, change.chat.id, change.from_user.language_code)

    async def on_group(self, update: Update, context: Context) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is not None:
            await self._tell_group(context, chat.id, user.language_code if user else None)

    async def _tell_group(self, context: Context, chat_id: int, language_code: str | None) -> None:
        """In a group the bot says once that it talks only in private, then stays quiet."""
        now = self.clock()
        if not await self.store.tell_group_once(chat_id, now):
            return
        dialogs = self.conversations.dialogs
        lang = self.conversations.language_for(language_code)
        text = render_message(dialogs, new_state(0, lang, now), "group_only", now)
        await self.send(context.bot, chat_id, Send(text))

    async def handle(
        self, update: Update, context: Context, person: Person, chat_id: int, event: Event
    ) -> None:
        now = self.clock()
        replies = await self.conversations.handle(person, event, now, f"tg:{update.update_id}")
        log.info("update %s from user %s: %s -> %d message(s)", update.update_id, person.user_id,
                 type(event).__name__, len(replies))  # fmt: skip
        await self.deliver(chat_id, replies)

    async def deliver(self, chat_id: int, replies: list[Send]) -> bool:
        """Send messages in order; False when the chat blocked the bot (the rest is not sent).

        Other errors (Telegram unreachable after the retries) propagate to the caller."""
        for reply in replies:
            if not await self.send(self.bot, chat_id, reply):
                return False
        return True

    async def send(self, bot: Bot, chat_id: int, reply: Send) -> bool:
        """Send one message; False when the chat blocked the bot."""
        markup = keyboard(reply.buttons)
        try:
            await bot.send_message(
                chat_id, reply.text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except BadRequest as exc:
            if "can't parse entities" not in str(exc).lower():
                raise
            log.error("HTML refused in chat %s (%s): sent as plain text", chat_id, exc)
            await bot.send_message(chat_id, to_plain(reply.text), reply_markup=markup)
        except Forbidden:
            log.info("chat %s blocked the bot: marked blocked", chat_id)
            await self.store.set_blocked(chat_id, True)
            return False
        return True

    async def on_error(self, update: object, context: Context) -> None:
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        if isinstance(error, TelegramError):
            log.warning("Telegram error on update %s: %s", update_id, error)
        else:
            log.error("error while handling update %s", update_id, exc_info=error)

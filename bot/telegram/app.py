"""The PTB Application: wires handlers to `Conversations` and delivers what it returns."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import BotCommand, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.config import Config
from bot.conversation import Conversations, Person
from bot.dialogs.model import DialogSet
from bot.events import Event, Press, Send
from bot.render import to_plain
from bot.store import SqliteStore, open_store
from bot.telegram.convert import keyboard, message_event

log = logging.getLogger(__name__)

COMMAND_HELP = {
    "fr": {
        "start": "Commencer ou reprendre",
        "progress": "Où j'en suis",
        "help": "Aide",
        "language": "Changer de langue",
        "restart": "Reprendre depuis le début",
        "stop": "Plus de rappels",
        "mydata": "Mes données",
        "forget": "Tout effacer",
    },
    "en": {
        "start": "Start or resume",
        "progress": "Where I am",
        "help": "Help",
        "language": "Change language",
        "restart": "Start over",
        "stop": "No more reminders",
        "mydata": "My data",
        "forget": "Erase everything",
    },
}


class TelegramBot:
    """Carries events from Telegram to the engine and its messages back."""

    def __init__(self, conversations: Conversations) -> None:
        self.conversations = conversations

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        private = filters.ChatType.PRIVATE
        app.add_handler(CallbackQueryHandler(self.on_press))
        app.add_handler(MessageHandler(private & filters.UpdateType.MESSAGE, self.on_message))
        app.add_error_handler(self.on_error)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.message, update.effective_user
        if message is None or user is None:
            return
        await self.handle(
            context,
            user.id,
            message.chat_id,
            Person(user.id, user.first_name, user.language_code),
            message_event(message),
        )

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        await query.answer()  # at once, so the client stops its spinner
        message = query.message
        if message is None or message.chat.type != ChatType.PRIVATE:
            return
        try:  # the pressed message keeps its text but loses its buttons: no second press
            await context.bot.edit_message_reply_markup(
                message.chat.id, message.message_id, reply_markup=None
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                log.warning(
                    "could not remove the keyboard of message %s: %s", message.message_id, exc
                )
        person = Person(user.id, user.first_name, user.language_code)
        await self.handle(context, user.id, message.chat.id, person, Press(query.data or ""))

    async def handle(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        user_id: int,
        chat_id: int,
        person: Person,
        event: Event,
    ) -> None:
        replies = await self.conversations.handle(person, event, datetime.now(UTC))
        log.info("user %s: %s -> %d message(s)", user_id, type(event).__name__, len(replies))
        for reply in replies:
            await self.send(context, chat_id, reply)

    async def send(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: Send) -> None:
        markup = keyboard(reply.buttons)
        try:
            await context.bot.send_message(
                chat_id, reply.text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except BadRequest as exc:
            if "can't parse entities" not in str(exc).lower():
                raise
            log.error("HTML rejected for chat %s (%s): sent as plain text", chat_id, exc)
            await context.bot.send_message(chat_id, to_plain(reply.text), reply_markup=markup)
        except Forbidden:
            log.info("chat %s blocked the bot", chat_id)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if isinstance(error, TelegramError):
            log.warning("Telegram error: %s", error)
        else:
            log.error("error while handling an update", exc_info=error)


def build_application(
    config: Config, dialogs: DialogSet, *, request: object | None = None
) -> Application:  # type: ignore[type-arg]
    """The Application, its store opened at start-up and closed at shutdown."""
    state: dict[str, SqliteStore] = {}

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        store = await open_store(config.store.path)
        state["store"] = store
        TelegramBot(Conversations(dialogs, store, config.bot.default_language)).register(app)
        for lang in dialogs.languages:
            commands = COMMAND_HELP.get(lang, COMMAND_HELP["en"])
            await app.bot.set_my_commands(
                [BotCommand(k, v) for k, v in commands.items()], language_code=lang
            )

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        if "store" in state:
            await state.pop("store").close()

    builder = (
        ApplicationBuilder()
        .token(config.telegram.token or "0:offline")
        .base_url(config.telegram.base_url)
        .base_file_url(config.telegram.base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)  # type: ignore[arg-type]
    return builder.build()


def run_bot(config: Config, dialogs: DialogSet) -> None:
    """Long polling until interrupted."""
    app = build_application(config, dialogs)
    app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)

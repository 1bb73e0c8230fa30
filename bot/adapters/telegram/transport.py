"""The outbox's transport to Telegram: one row, one Bot API call, and what became of it.

PTB's exceptions are turned into the sender's outcomes here, so that the sender knows
nothing of Telegram: blocked (403), refused for good (400: nothing would change if it
were sent again), unavailable (network errors, 5xx, 429 after the limiter's retries).
"""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.adapters.telegram.convert import keyboard
from bot.core.events import Send
from bot.core.render import to_plain
from bot.runtime.sender import Outcome
from bot.store.queues import Queued

log = logging.getLogger(__name__)
CHOSEN = "vie:chosen"  # the data of the ✓ button that marks a choice: pressing it does nothing


def chosen_keyboard(label: str) -> InlineKeyboardMarkup:
    """What is left under a message once one of its buttons was pressed: that choice."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"✓ {label}"[:64], callback_data=CHOSEN)]])


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
        """One message in HTML; as plain text if Telegram refuses our HTML (a bug of
        ours must not keep the person from their answer)."""
        markup = keyboard(reply.buttons)
        try:
            await self.bot.send_message(
                chat_id, reply.text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except BadRequest as exc:
            if "can't parse entities" not in str(exc).lower():
                raise
            log.error("HTML refused in chat %s (%s): sent as plain text", chat_id, exc)
            await self.bot.send_message(chat_id, to_plain(reply.text), reply_markup=markup)

    async def _mark(self, row: Queued) -> None:
        message_id, label = int(row.body["mark"]), str(row.body["label"])
        await self.bot.edit_message_reply_markup(
            row.chat_id, message_id, reply_markup=chosen_keyboard(label)
        )

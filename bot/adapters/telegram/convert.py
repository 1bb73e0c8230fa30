"""Pure conversions between Telegram objects and engine events or effects."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.core.events import ButtonView, Event, Unsupported, parse_text

_KINDS = (
    ("sticker", "sticker"),
    ("photo", "photo"),
    ("voice", "voice"),
    ("video_note", "video"),
    ("video", "video"),
    ("animation", "video"),
    ("audio", "voice"),
    ("document", "document"),
)


def keyboard(buttons: tuple[ButtonView, ...]) -> InlineKeyboardMarkup | None:
    """One button per row: labels are sentences, and rows of one read best on phones."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=b.data)
            ]
            for b in buttons
        ]
    )


def message_event(message: Message) -> Event:
    """A private message to an engine event (text, command, deep link or unsupported)."""
    if message.text is not None:
        # Deep links arrive as "/start <payload>": parse_text checks the payload (a bad
        # one is a plain start).
        return parse_text(message.text)
    for attribute, kind in _KINDS:
        if getattr(message, attribute, None):
            return Unsupported(kind)
    return Unsupported("other")

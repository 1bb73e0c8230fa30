"""Pure conversions between Telegram objects and engine events or effects."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.core.events import ButtonView, Event, Start, Unsupported, parse_text, valid_payload

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
        event = parse_text(message.text)
        if isinstance(event, Start):
            # Deep links arrive as "/start <payload>"; a bad payload is a plain start.
            parts = message.text.split(maxsplit=1)
            return Start(valid_payload(parts[1].strip()) if len(parts) > 1 else None)
        return event
    for attribute, kind in _KINDS:
        if getattr(message, attribute, None):
            return Unsupported(kind)
    return Unsupported("other")

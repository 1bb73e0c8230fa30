"""Pure conversions from Telegram messages to engine events."""

from __future__ import annotations

from telegram import Message

from bot.core.events import Event, Unsupported, parse_text

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

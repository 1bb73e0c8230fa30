"""What can happen to the bot: events in (from adapters) and effects out (to adapters)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core import callback

# What an event may carry that only the outside world knows, looked up before the step by
# a feature's lookup; the core passes it through and never looks inside.
Known = object

START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.S)


# -- events ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Start:
    """`/start`, with a deep-link payload when it is well formed (else None)."""

    payload: str | None = None
    known: Known | None = None  # the invitation the payload names, looked up beforehand


@dataclass(frozen=True, slots=True)
class Press:
    """A button press; `data` is raw callback data and is never trusted. It is decoded
    once, here (`decoded`: None when malformed), for the lookups and the step alike."""

    data: str
    known: Known | None = None
    decoded: callback.DialogPress | callback.SystemPress | None = field(
        init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "decoded", callback.decode(self.data))


@dataclass(frozen=True, slots=True)
class Text:
    text: str
    known: Known | None = None


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: str = ""
    known: Known | None = None


@dataclass(frozen=True, slots=True)
class Unsupported:
    """A sticker, photo, voice note…: `kind` names it."""

    kind: str


@dataclass(frozen=True, slots=True)
class NudgeDue:
    """The dispatcher found the pending nudge `key` due (it was due at `due`)."""

    key: str
    due: datetime
    known: Known | None = None


Event = Start | Press | Text | Command | Unsupported | NudgeDue


def valid_payload(payload: str | None) -> str | None:
    """The payload if it is a well-formed deep-link payload, else None."""
    if payload and START_PAYLOAD.match(payload):
        return payload
    return None


def parse_text(text: str) -> Event:
    """Typed text to an event: `/start x` -> Start, `/cmd args` -> Command, else Text."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return Text(text)
    name, args = match.group(1).lower(), (match.group(2) or "").strip()
    if name == "start":
        return Start(valid_payload(args))
    return Command(name, args)


# -- effects --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ButtonView:
    """A button: `data` comes back when pressed; a `url` button opens a link instead."""

    label: str
    data: str = ""
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A file to send (`/mydata`'s copy of everything): its name, bytes and media type."""

    name: str
    content: bytes = field(repr=False)
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Send:
    """Send an HTML message, with buttons (one per row); with a `document`, that file,
    `text` being its caption (may be empty; at most 1,024 characters)."""

    text: str
    buttons: tuple[ButtonView, ...] = ()
    document: Document | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """Append to the event log (analytics); never holds what the person wrote."""

    name: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ForgetUser:
    """Erase every row about the person."""


@dataclass(frozen=True, slots=True)
class ExportUserData:
    """Send the person everything stored about them."""


@dataclass(frozen=True, slots=True)
class ScheduleNudge:
    """Create or replace the person's pending nudge `key`."""

    key: str
    due: datetime


@dataclass(frozen=True, slots=True)
class CancelNudge:
    key: str


@dataclass(frozen=True, slots=True)
class KeepUnknown:
    """Keep, for the operators, a text the bot did not understand at `node` (stored
    without the person's name, kept for a limited time, erased with their data)."""

    node: str
    lang: str
    text: str


class FeatureEffect:
    """Base of the effects a feature defines (the store knows how to keep each one)."""

    __slots__ = ()


Effect = (
    Send | Record | ForgetUser | ExportUserData | ScheduleNudge | CancelNudge | KeepUnknown
    | FeatureEffect
)  # fmt: skip

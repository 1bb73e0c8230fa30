"""Callback data: what a button carries, in at most 64 bytes, never trusted.

Dialog buttons carry `<node version>|<flow>|<node>|<button>`; the bot's own buttons
(language choice, erase confirmation) carry `!<action>:<value>`. Decoding returns None
for anything malformed; the engine then checks that the press belongs to the user's
current node and to the node's current version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CALLBACK_BYTES = 64
_ID = r"[a-z][a-z0-9_]*"
_DIALOG = re.compile(rf"^([0-9a-z]{{1,8}})\|({_ID})\|({_ID})\|({_ID})$")
_SYSTEM = re.compile(r"^!([a-z_]{1,16}):([A-Za-z0-9_-]{1,44})$")


@dataclass(frozen=True, slots=True)
class DialogPress:
    version: str
    flow: str
    node: str
    button: str


@dataclass(frozen=True, slots=True)
class SystemPress:
    action: str
    value: str


def encode_dialog(version: str, flow: str, node: str, button: str) -> str:
    return f"{version}|{flow}|{node}|{button}"


def encode_system(action: str, value: str) -> str:
    return f"!{action}:{value}"


def decode(data: str) -> DialogPress | SystemPress | None:
    """Parse callback data; None when it is not something this bot could have sent."""
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        return None
    if m := _DIALOG.match(data):
        return DialogPress(*m.groups())
    if m := _SYSTEM.match(data):
        return SystemPress(*m.groups())
    return None

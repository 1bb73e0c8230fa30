"""Invitation codes and links: making them (adapters only: it draws random numbers),
reading what a newcomer types, and building the links an advocate shares."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.features.advocates.records import Invitation

PAYLOAD_BYTES = 16  # 128 random bits: 22 characters of A-Z a-z 0-9 _ -
CODE_LENGTH = 10  # 50 random bits, for people who type it
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's: no I, L, O or U
_CODE_FIXES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_START = re.compile(r"start=([A-Za-z0-9_-]{1,64})")
_PAYLOAD = re.compile(rf"^[A-Za-z0-9_-]{{{(PAYLOAD_BYTES * 4 + 2) // 3}}}$")
_SEPARATORS = re.compile(r"[\s.·-]+")
NAME_LIMIT = 32  # characters kept of an invitation's name


def new_invitation(advocate_id: int, advocate_name: str, name: str, active: int) -> Invitation:
    """A fresh invitation with unguessable codes (not stored until the turn is saved)."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return Invitation(
        payload=secrets.token_urlsafe(PAYLOAD_BYTES),
        code=code,
        advocate_id=advocate_id,
        advocate_name=advocate_name,
        name=clean_name(name),
        fresh=True,
        active=active,
    )


def clean_name(name: str) -> str:
    """An invitation's name as the advocate typed it, on one line and not too long."""
    return " ".join(name.split())[:NAME_LIMIT]


def show_code(code: str) -> str:
    """`ABCDE12345` -> `ABCDE-12345`: easier to read out and to type."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def invite_link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{bot_username}?start={payload}"


def share_url(link: str, text: str) -> str:
    """Telegram's share link: opens the chat picker with the invitation ready to send."""
    return "https://t.me/share/url?" + urlencode({"url": link, "text": text})


@dataclass(frozen=True, slots=True)
class Typed:
    """What a newcomer's answer to "who invited you?" could be."""

    payload: str | None  # a pasted link or payload
    code: str | None  # a typed code, normalised
    name: str  # else: the advocate's first name, as they know it


def read_typed(text: str) -> Typed:
    """Read a pasted link, a payload, a code (any case, dashes, O for 0…) or a name."""
    stripped = text.strip()
    found = _START.search(stripped)
    payload = found.group(1) if found else (stripped if _PAYLOAD.match(stripped) else None)
    squeezed = _SEPARATORS.sub("", stripped).upper().translate(_CODE_FIXES)
    code = (
        squeezed
        if len(squeezed) == CODE_LENGTH and all(c in CODE_ALPHABET for c in squeezed)
        else None
    )
    return Typed(payload, code, stripped[:64])

"""Who may see the console: one-time login links, session cookies and CSRF tokens.

Everything is signed with HMAC-SHA256 under one key (the `console.secret`, or one derived
from the bot's token, so that every worker of a bot shares it without another setting).

- A **link** (`/login/<token>`) names the operator, its expiry and a random nonce, signed.
  The signature is checked first (a forged or garbled link costs no database read); the
  store then marks the nonce used in the same statement that checks it is unused and
  unexpired (`bot/store/console_links.py`): a link works once, on any worker.
- A **session** is a signed cookie: the operator, its expiry and a nonce of its own. It
  is checked on every request, with the operator still in `telegram.admins`.
- The **CSRF token** of a session is the HMAC of its nonce: a page's forms carry it, and
  every changing request must give it back (`SameSite=Strict` is the first line; the
  token is the second, for browsers that do not honour it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.store.queues import from_ms, to_ms

COOKIE = "vie_console"
_NONCE_BYTES = 24


def derived_key(secret: str, token: str | None) -> bytes:
    """The signing key: the configured secret, else one derived from the bot's token
    (never the token itself: a signature must not help anyone guess it)."""
    material = secret or (token or "")
    if not material:
        return b""
    return hashlib.sha256(b"vie-coach console\0" + material.encode()).digest()


def nonce_hash(nonce: str) -> str:
    """What the store keeps of a link's nonce."""
    return hashlib.sha256(nonce.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Link:
    """A link as read from its token, its signature checked."""

    admin_id: int
    expires: datetime
    nonce: str

    @property
    def nonce_hash(self) -> str:
        return nonce_hash(self.nonce)


@dataclass(frozen=True, slots=True)
class Session:
    admin_id: int
    expires: datetime
    nonce: str


class Access:
    """Signs and reads links, sessions and CSRF tokens for the operators `admins`."""

    def __init__(
        self,
        key: bytes,
        admins: frozenset[int],
        link_life: timedelta = timedelta(minutes=10),
        session_life: timedelta = timedelta(hours=8),
    ) -> None:
        if len(key) < 16:
            raise ValueError("the console needs a signing key")
        self._key = key
        self.admins = admins
        self.link_life = link_life
        self.session_life = session_life

    def _sign(self, purpose: str, payload: str) -> str:
        mac = hmac.new(self._key, f"{purpose}\0{payload}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def _signed(self, purpose: str, payload: str) -> str:
        return f"{payload}.{self._sign(purpose, payload)}"

    def _read(self, purpose: str, token: str) -> tuple[int, datetime, str] | None:
        """(admin, expiry, nonce) of a well-signed token, else None."""
        if len(token) > 200:
            return None
        payload, _, signature = token.rpartition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(purpose, payload)):
            return None
        parts = payload.split(".")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            return None
        return int(parts[0]), from_ms(int(parts[1])), parts[2]

    def new_link(self, admin_id: int, now: datetime) -> tuple[str, Link]:
        """A fresh link's token, and what the store must keep of it."""
        link = Link(admin_id, now + self.link_life, secrets.token_urlsafe(_NONCE_BYTES))
        token = self._signed("link", f"{admin_id}.{to_ms(link.expires)}.{link.nonce}")
        return token, link

    def read_link(self, token: str, now: datetime) -> Link | None:
        """The link, if its signature holds, it has not expired and it names an operator
        (whether it was used already is the store's to say)."""
        read = self._read("link", token)
        if read is None:
            return None
        admin_id, expires, nonce = read
        if expires <= now or admin_id not in self.admins:
            return None
        return Link(admin_id, expires, nonce)

    def new_session(self, admin_id: int, now: datetime) -> tuple[str, Session]:
        """The cookie's value, and the session it stands for."""
        session = Session(admin_id, now + self.session_life, secrets.token_urlsafe(_NONCE_BYTES))
        cookie = self._signed("session", f"{admin_id}.{to_ms(session.expires)}.{session.nonce}")
        return cookie, session

    def read_session(self, cookie: str | None, now: datetime) -> Session | None:
        if not cookie:
            return None
        read = self._read("session", cookie)
        if read is None:
            return None
        admin_id, expires, nonce = read
        if expires <= now or admin_id not in self.admins:
            return None
        return Session(admin_id, expires, nonce)

    def csrf(self, session: Session) -> str:
        return self._sign("csrf", session.nonce)

    def csrf_ok(self, session: Session, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given), self.csrf(session))

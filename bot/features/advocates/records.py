"""Records the advocate features read from the store, handed to the pure engine.

The engine never queries the store: before a step, the conversation layer looks up what
the event needs (an invitation, a page of friends, pending alerts) and passes it along
in the event's `known` field. These are those looked-up values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

MAX_PATH = 10  # generations of advocates remembered above a friend
ALERTS_KEY = "alerts"  # the advocate's alert delivery, in the nudge outbox
DORMANT_KEY = "dormant"  # the friend's "have they gone quiet?" check, in the outbox
REFERRER_QUESTION = "referrer"  # the open question "who invited you?"
INVITES_SHOWN = 20  # open invitations listed by /invites
LETTER_LIMIT = 1500  # characters of the invitation to send by text message or e-mail


@dataclass(frozen=True, slots=True)
class Invitation:
    """One invite link: `payload` goes in the deep link, `code` is for typing."""

    payload: str
    code: str
    advocate_id: int
    advocate_name: str = ""
    name: str = ""  # "Marie" for `/invite Marie`, "" for the personal link
    revoked: bool = False
    path: tuple[int, ...] = ()  # the advocate, then the advocate's own advocates
    fresh: bool = False  # generated for this turn, not stored yet
    joined: int = 0  # friends who arrived through it
    active: int = 0  # the advocate's open invitations (for the cap on new ones)


@dataclass(frozen=True, slots=True)
class InviteList:
    """The advocate's open invitations, newest first."""

    invitations: tuple[Invitation, ...]


@dataclass(frozen=True, slots=True)
class Friend:
    """One invited friend as their advocate may see them (never what they wrote)."""

    user_id: int
    first_name: str
    shares: bool  # False: they switched sharing off with /privacy
    joined_at: datetime
    active_at: datetime | None
    invite_name: str
    reached: tuple[tuple[str, int], ...]  # (stage, milestones reached)
    completed: frozenset[str]


@dataclass(frozen=True, slots=True)
class FriendsPage:
    """A page of the advocate's friends, newest first, with keyset cursors."""

    friends: tuple[Friend, ...]
    total: int
    finished: int
    page: int
    has_next: bool


@dataclass(frozen=True, slots=True)
class Helped:
    """The people an advocate helped, as /helped shows them to that advocate alone:
    `friends` came through their invitations, `finished` of those finished the journey
    (counted only while they share their progress), `tree` came through them directly or
    through the people they brought in, at any distance (`friends` included)."""

    friends: int = 0
    finished: int = 0
    tree: int = 0


@dataclass(frozen=True, slots=True)
class Alert:
    """Something about a friend to tell their advocate."""

    id: int
    friend_id: int
    friend_name: str
    kind: str  # joined | stage | dormant
    stage: str | None
    at: datetime
    shares: bool


@dataclass(frozen=True, slots=True)
class AlertBatch:
    alerts: tuple[Alert, ...]
    more: int = 0  # pending beyond this batch


@dataclass(frozen=True, slots=True)
class AdvocatePolicy:
    """How the advocate features behave; from the `[advocates]` configuration."""

    bot_username: str = "VieCoachBot"  # for t.me links (Telegram: the bot's real one)
    alert_delay: timedelta = timedelta(minutes=10)  # alerts this close become one message
    alerts_per_day: int = 3  # alert messages in 24 hours; beyond, a daily digest
    digest_time: time = time(18, 0)  # local time of the daily digest
    dormant_after: timedelta = timedelta(days=14)  # a friend this quiet has gone dormant
    max_invites: int = 50  # open invitations per advocate


FRIENDS_PER_PAGE = 8
DIGEST_NAMES = 10  # names shown per kind of news in a digest

"""What the advocate features remember about one person, as a friend and as an advocate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.state import Part


@dataclass(frozen=True, slots=True)
class AdvocacyState:
    referrer: int | None = None  # the advocate whose invitation brought them
    shares: bool = True  # the advocate may see their progress by stage (/privacy)
    public: bool = False  # kept as stored; no ranking shows a first name any more
    alerts: bool = True  # as an advocate: alerts about their friends (/alerts)
    invite_tries: int = 0  # codes typed that matched no invitation
    watch_at: datetime | None = None  # when to check whether they went quiet
    alerts_sent: tuple[datetime, ...] = ()  # alert messages of the last 24 hours
    digest_at: datetime | None = None  # alerts held for a daily digest until then


ADVOCACY = Part("advocates", AdvocacyState())
NAME = ADVOCACY.name

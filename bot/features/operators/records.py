"""/broadcast's records: the draft an operator writes, what the store says of the jobs
and of who would be reached, the effects the runtime carries out, and what became of
them. Pure data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from bot.core.events import FeatureEffect

BROADCAST = "broadcast"  # the command, the question's prefix and the buttons' action
# The states of a job; a job running or paused is "active": only one at a time.
ACTIVE = ("running", "paused")
STATES = ("running", "paused", "done", "cancelled")
Control = Literal["pause", "resume", "cancel"]
CONTROLS: dict[str, Control] = {"pause": "pause", "resume": "resume", "cancel": "cancel"}


@dataclass(frozen=True, slots=True)
class Draft:
    """What an operator has written so far: a template per language (a language left
    out gets the first language's text)."""

    texts: Mapping[str, str] = field(default_factory=dict)

    @property
    def stamp(self) -> str:
        """Six hex digits naming these texts: a Send button shown for them sends them,
        and only them (a draft written again since makes the old button expire)."""
        data = json.dumps(dict(self.texts), sort_keys=True, ensure_ascii=False)
        return hashlib.blake2b(data.encode(), digest_size=3).hexdigest()


@dataclass(frozen=True, slots=True)
class Reach:
    """Who a broadcast would reach now: people who accept reminders (never said /stop
    or "no more reminders", or said /reminders since) and have not blocked the bot;
    `by_language`: how many of them read each language."""

    total: int = 0
    by_language: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A broadcast job and where it stands."""

    id: int
    state: str  # running, paused, done, cancelled
    total: int  # recipients taken when it was confirmed, less those erased since
    sent: int
    waiting: int  # not sent yet (in the outbox or still to come)
    blocked: int  # had blocked the bot (403)
    refused: int  # Telegram refused the message, or it could not be written for them
    skipped: int  # blocked the bot or stopped reminders before their turn came
    per_second: float
    created: datetime
    finished: datetime | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def minutes_left(self) -> int:
        """At the job's pace, the minutes until every waiting person is reached (rounded
        up; 0 when nobody waits)."""
        if not self.waiting or self.per_second <= 0:
            return 0
        return max(1, -(-self.waiting // max(1, round(self.per_second * 60))))


@dataclass(frozen=True, slots=True)
class Checked:
    """What the checker says of a text: errors (it cannot be sent as it is) and
    warnings (French typography the renderer cannot mend)."""

    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BroadcastKnown:
    """What the lookup found for an operator's broadcast event (`known`)."""

    order: tuple[str, ...]  # the languages asked for, the default first
    draft: Draft | None = None
    reach: Reach | None = None
    status: JobStatus | None = None  # the active job, else the last one
    checked: Checked | None = None  # of the text just typed


# -- effects: carried out by the runtime (`Conversations.carry_out`) -------------------
@dataclass(frozen=True, slots=True)
class SaveDraft(FeatureEffect):
    """Keep these texts as the operator's draft (replacing the one before)."""

    texts: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class DropDraft(FeatureEffect):
    """Forget the operator's draft."""


@dataclass(frozen=True, slots=True)
class StartBroadcast(FeatureEffect):
    """Make the draft a job: its recipients taken now, in the same transaction, unless
    a job is already active."""

    texts: Mapping[str, str]
    default_lang: str


@dataclass(frozen=True, slots=True)
class ControlBroadcast(FeatureEffect):
    """Pause, resume or cancel the active job."""

    action: Control


@dataclass(frozen=True, slots=True)
class Started:
    """What became of a StartBroadcast: `started` (the new job), or `busy` (another job
    is active: `job` is that one; the draft is kept)."""

    result: Literal["started", "busy"]
    job: JobStatus


@dataclass(frozen=True, slots=True)
class Controlled:
    """What became of a ControlBroadcast: `done`, `already` (it was so), or `none` (no
    active job); `job`: the job as it is now, if there is one."""

    action: Control
    result: Literal["done", "already", "none"]
    job: JobStatus | None = None

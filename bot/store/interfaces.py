"""The interfaces between the pure core and the outside world, in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.events import Effect
from bot.core.state import UserState
from bot.features.advocates.reads import AdvocateReads


class NudgeOutbox(Protocol):
    """The durable queue of pending nudges (rows are written with the turn, in `save`)."""

    async def claim_due(
        self, now: datetime, limit: int, lease: timedelta
    ) -> list[tuple[int, str, datetime]]:
        """Mark up to `limit` due nudges in flight until `now + lease`; earliest first."""

    async def complete_nudge(self, user_id: int, key: str, due: datetime) -> None:
        """Delete a handled in-flight nudge (not a row rescheduled meanwhile)."""

    async def recover_leases(self, now: datetime) -> int:
        """Make nudges whose lease is over pending again; how many."""

    async def next_due(self) -> datetime | None: ...


class Store(NudgeOutbox, Protocol):
    """Durable per-person state. SQLite is the embedded default; PostgreSQL can follow.

    Every method is one transaction: either all of it is stored or none of it.
    """

    async def load(self, user_id: int) -> UserState | None:
        """The person's state, or None if the bot has never met them (or they were erased)."""

    @property
    def advocates(self) -> AdvocateReads:
        """The advocate features' read queries."""

    async def save(
        self,
        before: UserState | None,
        after: UserState,
        effects: Sequence[Effect],
        milestone_stage: Mapping[str, str],
        update_key: str | None = None,
    ) -> None:
        """Store the new state and everything the turn's effects persist (event log,
        milestones, nudge schedule, referral, invitations, alerts) and the processed
        update's key, all at once."""

    async def seen(self, update_key: str) -> bool:
        """Whether the update with this key was already processed."""

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        """Record that the person blocked or unblocked the bot."""

    async def tell_group_once(self, chat_id: int, now: datetime) -> bool:
        """True the first time it is asked for this group chat, False ever after."""

    async def prune(self, now: datetime) -> int:
        """Drop processed-update keys too old to be redelivered; how many were dropped."""

    async def forget(self, user_id: int) -> None:
        """Erase every row about the person."""

    async def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the person, as plain JSON-able data."""

    async def close(self) -> None: ...

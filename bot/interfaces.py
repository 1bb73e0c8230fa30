"""The interfaces between the pure core and the outside world, in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.events import Record
from bot.state import UserState


class Store(Protocol):
    """Durable per-person state. SQLite is the embedded default; PostgreSQL can follow.

    Every method is one transaction: either all of it is stored or none of it.
    """

    async def load(self, user_id: int) -> UserState | None:
        """The person's state, or None if the bot has never met them (or they were erased)."""

    async def save(
        self,
        before: UserState | None,
        after: UserState,
        records: Sequence[Record],
        milestone_stage: Mapping[str, str],
    ) -> None:
        """Store the new state, the milestones reached and the event-log lines at once."""

    async def forget(self, user_id: int) -> None:
        """Erase every row about the person."""

    async def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the person, as plain JSON-able data."""

    async def close(self) -> None: ...


class Clock(Protocol):
    """Where adapters get `now` from; the engine never reads a clock itself."""

    def now(self) -> datetime: ...

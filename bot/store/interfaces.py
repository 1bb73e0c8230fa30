"""The interfaces between the pure core and the outside world, in one place."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.events import Effect
from bot.core.state import UserState
from bot.features.advocates.reads import AdvocateReads
from bot.store.queues import NO_DELIVERY, Delivery, Outgoing, Queued, Waiting


class Inbox(Protocol):
    """Updates stored before Telegram is told they arrived (see `bot.store.queues`)."""

    async def add(self, updates: Iterable[tuple[int, str, int | None]], now: datetime) -> int:
        """Store (update id, raw JSON, owner) rows at once; known ids are ignored."""

    async def waiting(self, after: int = -1, limit: int = 1000) -> list[Waiting]: ...

    async def waiting_of(self, owner: int) -> list[Waiting]:
        """One person's updates not processed yet, oldest first."""

    async def done(self, update_ids: Sequence[int], now: datetime) -> None: ...

    async def set_aside(self, update_id: int, error: str, now: datetime) -> None: ...

    async def poison(self, limit: int = 50) -> list[tuple[int, str, datetime, str]]: ...


@dataclass(frozen=True, slots=True)
class Backlog:
    """What waits in the store, for /healthz and /metrics."""

    inbox_waiting: int  # updates stored, not answered yet
    outbox_rows: int  # messages not sent yet
    oldest_outbox: datetime | None  # when the oldest of them was queued
    nudges_pending: int  # reminders and alerts planned


class Outbox(Protocol):
    """Replies stored with their turn until Telegram has accepted them."""

    async def add(self, rows: Sequence[Outgoing], now: datetime) -> None: ...

    async def after(self, last_id: int, limit: int = 5000) -> list[Queued]: ...

    async def ids(self, limit: int) -> list[int]:
        """The ids of the first `limit` rows."""

    async def rows(self, ids: Sequence[int]) -> list[Queued]:
        """These rows (those still there), in id order."""

    async def sent(self, ids: Sequence[int]) -> None: ...

    async def drop(self, ids: Sequence[int], reason: str, now: datetime) -> None: ...

    async def count(self) -> int: ...


class NudgeOutbox(Protocol):
    """The durable queue of pending nudges (rows are written with the turn, in `save`)."""

    async def claim_due(
        self, now: datetime, limit: int, lease: timedelta
    ) -> list[tuple[int, str, datetime]]:
        """Mark up to `limit` due nudges in flight until `now + lease`; earliest first."""

    async def recover_leases(self, now: datetime) -> int:
        """Make nudges whose lease is over pending again; how many."""

    async def next_due(self) -> datetime | None: ...


class Locks(Protocol):
    """What the workers of one store share (`bot.store.pg_locks`); one process alone
    holds everything (`bot.store.lock.ProcessLocks`)."""

    generation: int  # changes when the locks held were lost (a lost database session)

    def person(self, user_id: int) -> AbstractAsyncContextManager[None]:
        """Held while one of the person's turns runs."""

    async def try_person(self, user_id: int) -> bool: ...

    async def try_hold(self, user_id: int) -> bool:
        """The person's lock if no other worker holds it, without waiting."""

    async def let_go(self, user_id: int) -> None: ...

    async def release_person(self, user_id: int) -> None: ...

    async def try_role(self, role: str) -> bool:
        """Take "sender" or "poller" if no other worker holds it."""

    async def release_role(self, role: str) -> None: ...

    async def alive(self) -> bool: ...

    async def close(self) -> None: ...


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
        delivery: Delivery = NO_DELIVERY,
    ) -> None:
        """Store the new state and everything the turn's effects persist (event log,
        milestones, nudge schedule, referral, invitations, alerts) with its delivery
        (the update answered, the replies for the outbox, the nudge handled), at once."""

    @property
    def inbox(self) -> Inbox: ...

    @property
    def locks(self) -> Locks: ...

    @property
    def outbox(self) -> Outbox: ...

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        """Record that the person blocked or unblocked the bot."""

    async def tell_group_once(self, chat_id: int, now: datetime) -> bool:
        """True the first time it is asked for this group chat, False ever after."""

    async def prune(self, now: datetime) -> int:
        """Drop update ids too old to be redelivered and other expired rows; how many."""

    async def forget(self, user_id: int, delivery: Delivery = NO_DELIVERY) -> None:
        """Erase every row about the person, then store the delivery of the turn that
        erased them (its confirmation), at once."""

    async def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the person, as plain JSON-able data."""

    async def close(self) -> None: ...

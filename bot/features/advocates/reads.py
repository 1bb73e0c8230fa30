"""What the advocate features read from the store, before a step (see `lookups`)."""

from __future__ import annotations

from typing import Protocol

from bot.features.advocates.records import (
    INVITES_SHOWN,
    AlertBatch,
    FriendsPage,
    Helped,
    Invitation,
    InviteList,
)


class AdvocateReads(Protocol):
    """The store's read queries for advocates (`SqliteStore.advocates`)."""

    async def invitation(self, *, payload: str = "", code: str = "") -> Invitation | None: ...

    async def invitation_by_names(self, advocate_name: str, newcomer: str) -> Invitation | None: ...

    async def open_invitation(
        self, advocate_id: int, name: str
    ) -> tuple[Invitation | None, int]: ...

    async def invitations(self, advocate_id: int, limit: int = INVITES_SHOWN) -> InviteList: ...

    async def friends_page(
        self,
        advocate_id: int,
        size: int,
        page: int = 1,
        after: tuple[int, int] | None = None,
        before: tuple[int, int] | None = None,
    ) -> FriendsPage: ...

    async def helped(self, advocate_id: int) -> Helped: ...

    async def pending_alerts(self, advocate_id: int, limit: int = 200) -> AlertBatch: ...


class HasAdvocateReads(Protocol):
    """The runtime's services, as far as the advocate lookups need them."""

    @property
    def advocates(self) -> AdvocateReads: ...

"""What /broadcast needs from outside, before a step: the store's reads, and the checker
of a text (both behind a Protocol: the store and the checker implement them, the
feature never imports either)."""

from __future__ import annotations

from typing import Protocol

from bot.core.dialogset import DialogSet
from bot.features.operators.records import Checked, Draft, JobStatus, Reach


class BroadcastReads(Protocol):
    """The store's queries (`bot/store/broadcasts.py`)."""

    async def draft(self, admin_id: int) -> Draft | None: ...

    async def reach(self) -> Reach: ...

    async def status(self) -> JobStatus | None:
        """The active job, else the last one (None: there never was one)."""


class BroadcastDesk(Protocol):
    """What the runtime offers the operators' lookup for /broadcast."""

    @property
    def reads(self) -> BroadcastReads: ...

    @property
    def default_language(self) -> str: ...

    def check(self, dialogs: DialogSet, source: str, lang: str) -> Checked:
        """A text checked like a dialog text, for the language it is written in."""


class HasBroadcastDesk(Protocol):
    """The runtime's services, as the lookup sees them (`desk` None: this way of running
    sends no broadcasts)."""

    @property
    def dialogs(self) -> DialogSet: ...

    @property
    def broadcasts(self) -> BroadcastDesk | None: ...

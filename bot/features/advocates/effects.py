"""The advocate features' effects: what a turn asks the store to keep about invitations,
referrals and alerts (written with the turn, in the same statement)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.events import FeatureEffect
from bot.features.advocates.records import Invitation


@dataclass(frozen=True, slots=True)
class CreditReferral(FeatureEffect):
    """The person joined through `advocate_id`'s invitation `payload` (first touch)."""

    advocate_id: int
    payload: str
    path: tuple[int, ...]  # the advocate, then their own advocates


@dataclass(frozen=True, slots=True)
class Notify(FeatureEffect):
    """Queue an alert about this person for their advocate, due at `due` at the earliest."""

    advocate_id: int
    kind: str  # joined | stage | dormant
    stage: str | None
    due: datetime


@dataclass(frozen=True, slots=True)
class CreateInvite(FeatureEffect):
    invitation: Invitation


@dataclass(frozen=True, slots=True)
class RevokeInvite(FeatureEffect):
    payload: str


@dataclass(frozen=True, slots=True)
class AckAlerts(FeatureEffect):
    """These alerts were told (or dropped): remove them from the advocate's queue."""

    ids: tuple[int, ...]

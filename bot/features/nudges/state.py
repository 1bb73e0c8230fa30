"""What the follow-up nudges remember about one person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.state import Part


@dataclass(frozen=True, slots=True)
class NudgeState:
    reminders: bool = True  # False after /stop
    sent: tuple[datetime, ...] = ()  # sends of the last 7 days
    ignored_in_a_row: int = 0  # nudges sent since the person last wrote or pressed
    step: int = 0  # which follow-up of the current node comes next
    next_at: datetime | None = None  # when the pending nudge is due, if any


NUDGES = Part("nudges", NudgeState())

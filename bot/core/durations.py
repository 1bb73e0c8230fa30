"""Durations as operators write them in dialogs and configuration: "30m", "2d", "1w"."""

from __future__ import annotations

import re
from datetime import timedelta

_MAX_DURATION_MINUTES = 365 * 24 * 60
_DURATION = re.compile(r"(?:([0-9]{1,9})w)?(?:([0-9]{1,9})d)?(?:([0-9]{1,9})h)?(?:([0-9]{1,9})m)?")
_UNIT_MINUTES = (7 * 24 * 60, 24 * 60, 60, 1)


def parse_duration(text: str) -> timedelta:
    """Parse "30m", "3h", "2d", "1w" or a combination in that order such as "1d12h"."""
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(
            f"invalid duration {text!r}: expected a whole number with a unit w, d, h or m "
            "(largest first), e.g. '30m', '3h', '2d', '1w' or '1d12h'"
        )
    # Summed as integers before building a timedelta, so huge inputs cannot overflow.
    minutes = sum(
        int(amount) * per
        for amount, per in zip(match.groups(), _UNIT_MINUTES, strict=True)
        if amount is not None
    )
    if minutes == 0:
        raise ValueError(f"invalid duration {text!r}: must be longer than zero")
    if minutes > _MAX_DURATION_MINUTES:
        raise ValueError(f"invalid duration {text!r}: must be at most 365 days")
    return timedelta(minutes=minutes)

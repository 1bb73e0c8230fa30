"""Where a person lives: their time zone, chosen with /timezone or guessed from their
language. Reading a zone reads the tz database (deterministic, and cached by zoneinfo)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.state import UserState

_TIMEZONES = {"fr": "Europe/Paris", "en": "Europe/London"}


def default_timezone(language: str) -> ZoneInfo:
    """A best guess at where someone lives from their language, until they say."""
    return ZoneInfo(_TIMEZONES.get(language, "UTC"))


def valid_timezone(name: str) -> bool:
    """Whether `name` is an IANA zone such as "Europe/Paris" (what /timezone accepts)."""
    if not name or "/" not in name or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def timezone_of(state: UserState) -> ZoneInfo:
    """The person's timezone: chosen with /timezone, else their language's default."""
    if state.timezone:
        try:
            return ZoneInfo(state.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return default_timezone(state.lang)

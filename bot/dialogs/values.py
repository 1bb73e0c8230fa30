"""The small values a dialog file writes, read into Python: targets, texts, `set:`
values, durations, review days, and line-tracking containers as plain data."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from bot.core.durations import parse_duration
from bot.core.model import Scalar, Target, Texts


def plain(value: Any) -> Any:
    """Line-tracking containers to plain dicts and lists, and dates (YAML reads an unquoted
    2026-03-02 as one) to their text: what JSON can hash."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


# a day, optionally with a time (YAML's timestamp form): the time is ignored
_ISO_DAY = re.compile(
    r"(\d{4}-\d{2}-\d{2})(?:[Tt ]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?\s*(?:Z|[+-]\d{1,2}(?::?\d{2})?)?)?"
)


def review_date(raw: Any) -> date | None:
    """A fact's `reviewed:` as a day: 2026-03-02, quoted or not, or with a time after it
    (which is ignored). Raises ValueError for anything else."""
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    found = _ISO_DAY.fullmatch(raw.strip()) if isinstance(raw, str) else None
    if found:
        return date.fromisoformat(found.group(1))  # ValueError for 2026-02-30
    raise ValueError(raw)


def target(flow: str, raw: str) -> Target:
    """`node` (in `flow`) or `flow.node`."""
    head, _, tail = raw.partition(".")
    return Target(head, tail) if tail else Target(flow, head)


def texts(raw: Any) -> Texts:
    """A text per language."""
    return {str(k): str(v) for k, v in raw.items()}


def sets(raw: Any) -> dict[str, Scalar]:
    """A `set:` mapping (absent: nothing set)."""
    return dict(raw or {})


def duration(text: str) -> timedelta | None:
    """`3d`, `12h`… or None, which the checker reports with its line."""
    try:
        return parse_duration(text)
    except ValueError:
        return None  # reported by the checker with its line

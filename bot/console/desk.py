"""What the console reads from the running bot and asks of it, handed over by the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.console.access import Access
from bot.core.dialogset import DialogSet
from bot.store.console_links import ConsoleLinks
from bot.store.opening import SqlStore


@dataclass(frozen=True, slots=True)
class Desk:
    store: SqlStore
    dialogs: Callable[[], DialogSet]  # the set served now (it changes on a reload)
    access: Access
    links: ConsoleLinks
    clock: Callable[[], datetime]
    default_language: str
    keep_unknown: timedelta  # how long texts not understood are kept
    secure: bool  # served over https (a reverse proxy): cookies marked Secure
    # go back to a version served before: what became of it, in a sentence; None when
    # this bot serves no folder it can rewrite
    rollback: Callable[[str], Awaitable[str]] | None = None
    moving: Callable[[], None] = lambda: None  # a broadcast resumed: wake the broadcaster
    # the map's picture: (what it shows, its DOT source made on demand) -> SVG, when
    # Graphviz is installed
    draw: Callable[[Hashable, Callable[[], str]], Awaitable[bytes | None]] | None = None

"""The dialog sets the bot served, kept in the store, and where people stand now.

Each version's files are kept once (a rollback writes them back); each time a version
began to be served is one row. Where people stand, by node and by the version of the
node they saw, is what the checker compares a new dialog set with.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.dialogs.moves import Standing
from bot.store.queues import SQLITE, Statement, from_ms, to_ms

FetchAll = Callable[[str, Sequence[Any]], Awaitable[list[Any]]]
Write = Callable[..., Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Served:
    """One time a dialog version began to be served."""

    version: str
    at: datetime
    reason: str  # "start", or the reload's: "reload (file change)", "reload (SIGHUP)"…


class DialogVersions:
    """The `dialog_files` and `dialog_served` tables, and people's places."""

    def __init__(self, fetch_all: FetchAll, write: Write, *, dialect: str = SQLITE) -> None:
        self._fetch_all = fetch_all
        self._write = write
        self.dialect = dialect  # every statement here reads the same in both dialects

    async def served(
        self, version: str, files: Mapping[str, str], reason: str, now: datetime
    ) -> bool:
        """Note that `version` is served from now on; False when it already was the one
        served last (a reload that changed nothing)."""
        history = await self.history(limit=1)
        if history and history[0].version == version:
            return False
        statements: tuple[Statement, ...] = (
            (
                "INSERT INTO dialog_files (version, files) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(version, json.dumps(dict(files), ensure_ascii=False, sort_keys=True))],
            ),
            (
                "INSERT INTO dialog_served (version, served_ms, reason) VALUES (?, ?, ?)",
                [(version, to_ms(now), reason)],
            ),
        )
        await self._write(*statements)
        return True

    async def history(self, limit: int = 20) -> list[Served]:
        """The versions served, the latest first."""
        rows = await self._fetch_all(
            "SELECT version, served_ms, reason FROM dialog_served ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [Served(str(r[0]), from_ms(int(r[1])), str(r[2])) for r in rows]

    async def files(self, version: str) -> dict[str, str] | None:
        """The files of a version served once (None: never served here)."""
        rows = await self._fetch_all("SELECT files FROM dialog_files WHERE version = ?", (version,))
        if not rows:
            return None
        files: dict[str, str] = json.loads(rows[0][0])
        return files

    async def standing(self) -> list[Standing]:
        """Where people are in the dialogs, by node and by the node version they saw
        (people who blocked the bot included: they may come back)."""
        rows = await self._fetch_all(
            """SELECT flow, node, node_version, count(*) FROM conversations
               WHERE flow IS NOT NULL AND node IS NOT NULL
               GROUP BY flow, node, node_version""",
            (),
        )
        # sorted here, by code point: PostgreSQL would order text by the database's locale
        found = sorted((str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows)
        return [Standing(*row) for row in found]

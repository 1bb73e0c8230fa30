"""What the SQLite and PostgreSQL stores answer with the same SQL: a person's export
(`/mydata`), the texts not understood, and the backlog, on top of each store's reads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.store.interfaces import Backlog
from bot.store.queues import from_ms, to_ms

# Tables holding rows about one person and the column naming them, exported by /mydata
# (all cascade from users): the core's, then the features' (a test compares these with
# what the features declare).
USER_TABLES = {
    "users": "user_id",
    "conversations": "user_id",
    "milestones": "user_id",
    "stages_completed": "user_id",
    "events": "user_id",
    "inbox": "owner",
    "outbox": "chat_id",
    "nudges": "user_id",
    "referrals": "friend_id",
    "invites": "advocate_id",
    "advocates": "user_id",
    "alerts": "advocate_id",
    "unknown_texts": "user_id",
    "exposures": "user_id",  # A/B variants shown
    "reached_nodes": "user_id",  # the nodes they reached (the console's counts)
    "broadcast_drafts": "admin_id",
    "broadcast_recipients": "user_id",
    "console_links": "admin_id",  # the operators' console's one-time links
}
# Columns that hold JSON text in either database
_JSON_COLUMNS = ("data", "vars", "body")


class Reads(Protocol):
    """The reads a store offers its shared queries."""

    async def fetch_all(self, query: str, args: Sequence[Any] = ()) -> list[Any]: ...

    async def fetch_named(self, query: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Every row of one read query, as a mapping of column name to value."""


class SharedQueries:
    """Mixed into both stores."""

    async def export(self: Reads, user_id: int) -> dict[str, Any]:
        """Everything about the person, and no one else's id: the advocate who invited
        them by first name only (`invited_by`), the friends an alert is about not at all."""
        out: dict[str, Any] = {}
        for table, column in USER_TABLES.items():
            named = ""
            if table == "referrals":
                named = ", (SELECT first_name FROM users WHERE user_id = t.advocate_id) AS _by"
            rows = await self.fetch_named(
                f"SELECT t.*{named} FROM {table} t WHERE t.{column} = ?", (user_id,)
            )
            for row in rows:
                row.pop(column, None)
                row.pop("path", None)  # the advocates above: other people's ids
                row.pop("advocate_id", None)  # after `column`: someone else's id
                row.pop("friend_id", None)
                if table == "referrals":
                    by = row.pop("_by", None)
                    row["invited_by"] = {"first_name": by} if by else None
                for key in _JSON_COLUMNS:
                    if row.get(key) is not None:
                        row[key] = json.loads(row[key])
            out[table] = rows
        return out

    async def unknown_texts(
        self: Reads, since: datetime, limit: int = 50
    ) -> list[tuple[str, str, str, int]]:
        """The texts not understood since then, most frequent first: (node, language, one
        way it was written, how many times), never who wrote them."""
        query = """SELECT node, lang, min(text), count(*) AS n FROM unknown_texts
                   WHERE at_ms >= ? GROUP BY node, lang, text_key
                   ORDER BY n DESC, node, min(text) LIMIT ?"""
        rows = await self.fetch_all(query, (to_ms(since), limit))
        return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    async def backlog(self: Reads) -> Backlog:
        """What waits: one read of a few counts (each on an index)."""
        (row,) = await self.fetch_all(
            "SELECT (SELECT count(*) FROM inbox WHERE done_ms IS NULL), "
            "(SELECT count(*) FROM outbox), (SELECT min(created_ms) FROM outbox), "
            "(SELECT count(*) FROM nudges)"
        )
        oldest = None if row[2] is None else from_ms(int(row[2]))
        return Backlog(int(row[0]), int(row[1]), oldest, int(row[3]))

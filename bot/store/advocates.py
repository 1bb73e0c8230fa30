"""Read queries for the advocate features, on the store's connection (SQLite or PostgreSQL).

Each query reads a bounded handful of rows through an index, whatever the number of
users: counters are kept by triggers (see migration 0002), friends are paged by keyset
(never OFFSET), and "people helped" reads the advocate's own row of counters (no ranking:
nobody is compared with anybody).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from bot.core.textmatch import normalize
from bot.features.advocates.records import (
    INVITES_SHOWN,
    MAX_PATH,
    Alert,
    AlertBatch,
    Friend,
    FriendsPage,
    Helped,
    Invitation,
    InviteList,
)
from bot.store.queues import POSTGRESQL, SQLITE, from_ms

# Runs one read query between the store's own statements (`SqliteStore.fetch_all`).
FetchAll = Callable[[str, Sequence[Any]], Awaitable[list[Any]]]

_INVITE = """
    SELECT i.payload, i.code, i.advocate_id, a.first_name, i.name, i.revoked_ms IS NOT NULL,
           (SELECT path FROM referrals WHERE friend_id = i.advocate_id), i.joined
    FROM invites i JOIN users a ON a.user_id = i.advocate_id"""
# A friend's milestones reached by stage as a JSON list of [stage, n], and the stages
# they completed as words: each dialect spells the aggregates its own way.
_FRIEND = """
    SELECT r.friend_id, u.first_name, u.shares, r.joined_ms, u.active_at, i.name,
           (SELECT {reached} FROM (
               SELECT stage, count(*) AS n FROM milestones m
               WHERE m.user_id = r.friend_id AND stage IS NOT NULL GROUP BY stage){alias}),
           (SELECT {completed} FROM stages_completed s WHERE s.user_id = r.friend_id)
    FROM referrals r JOIN users u ON u.user_id = r.friend_id
    LEFT JOIN invites i ON i.payload = r.payload"""
_AGGREGATES = {
    SQLITE: {
        "reached": "json_group_array(json_array(stage, n))",
        "completed": "group_concat(stage, ' ')",
        "alias": "",  # none: the plan then reads "SCAN (subquery-N)", as the test wants
    },
    POSTGRESQL: {  # NULL for no milestone (read as []); ordered as SQLite's GROUP BY leaves it
        "reached": 'json_agg(json_build_array(stage, n) ORDER BY stage COLLATE "C")::text',
        "completed": "string_agg(stage, ' ')",
        "alias": " AS reached",  # PostgreSQL 15 needs one
    },
}
_PAGE = "ORDER BY r.joined_ms {0}, r.friend_id {0} LIMIT ?"


def queries(dialect: str = SQLITE) -> dict[str, str]:
    """Every query, by name, in the dialect's SQL."""
    friend = _FRIEND.format(**_AGGREGATES[dialect])
    return {
        "invitation_by_payload": f"{_INVITE} WHERE i.payload = ?",
        "invitation_by_code": f"{_INVITE} WHERE i.code = ?",
        "invitations_named": f"{_INVITE} WHERE i.name_key = ? AND i.name_key != '' "
        "AND i.revoked_ms IS NULL LIMIT 50",
        "open_invitation": f"{_INVITE} WHERE i.advocate_id = ? AND i.name_key = ? "
        "AND i.revoked_ms IS NULL",
        "open_count": "SELECT count(*) FROM invites WHERE advocate_id = ? AND revoked_ms IS NULL",
        "invitations": f"{_INVITE} WHERE i.advocate_id = ? AND i.revoked_ms IS NULL "
        "ORDER BY i.created_ms DESC LIMIT ?",
        "friends_first": f"{friend} WHERE r.advocate_id = ? {_PAGE.format('DESC')}",
        "friends_after": f"{friend} WHERE r.advocate_id = ? "
        f"AND (r.joined_ms, r.friend_id) < (?, ?) {_PAGE.format('DESC')}",
        "friends_before": f"{friend} WHERE r.advocate_id = ? "
        f"AND (r.joined_ms, r.friend_id) > (?, ?) {_PAGE.format('ASC')}",
        "counters": "SELECT friends, finished FROM advocates WHERE user_id = ?",
        "helped": "SELECT friends, finished, tree FROM advocates WHERE user_id = ?",
        "alerts": "SELECT a.id, a.friend_id, u.first_name, a.kind, a.stage, a.at_ms, u.shares "
        "FROM alerts a JOIN users u ON u.user_id = a.friend_id "
        "WHERE a.advocate_id = ? ORDER BY a.id LIMIT ?",
        "alerts_count": "SELECT count(*) FROM alerts WHERE advocate_id = ?",
    }


# Every query, by name (SQLite's); a test checks that none of them scans a table.
QUERIES = queries(SQLITE)


def _invitation(row: Sequence[Any], active: int = 0) -> Invitation:
    above = json.loads(row[6]) if row[6] else []
    return Invitation(
        payload=row[0],
        code=row[1],
        advocate_id=row[2],
        advocate_name=row[3],
        name=row[4],
        revoked=bool(row[5]),
        path=tuple([row[2], *above][:MAX_PATH]),
        joined=row[7],
        active=active,
    )


def _friend(row: Sequence[Any]) -> Friend:
    return Friend(
        user_id=row[0],
        first_name=row[1],
        shares=bool(row[2]),
        joined_at=from_ms(row[3]),
        active_at=None if row[4] is None else datetime.fromisoformat(row[4]),
        invite_name=row[5] or "",
        reached=tuple((str(s), int(n)) for s, n in json.loads(row[6] or "[]")),
        completed=frozenset((row[7] or "").split()),
    )


class AdvocateQueries:
    """The advocate features' reads (their writes go with the turn, in one statement)."""

    def __init__(self, fetch_all: FetchAll, *, dialect: str = SQLITE) -> None:
        self._fetch_all = fetch_all
        self._queries = queries(dialect)

    async def _all(self, name: str, args: Sequence[Any]) -> list[Any]:
        return await self._fetch_all(self._queries[name], args)

    async def invitation(self, *, payload: str = "", code: str = "") -> Invitation | None:
        """The invitation with this deep-link payload or typed code, revoked or not."""
        name, value = ("payload", payload) if payload else ("code", code)
        rows = await self._all(f"invitation_by_{name}", (value,))
        return _invitation(rows[0]) if rows else None

    async def invitation_by_names(self, advocate_name: str, newcomer: str) -> Invitation | None:
        """The one open invitation named after the newcomer from an advocate called
        `advocate_name` (both compared normalised); None when none or several match."""
        wanted, key = normalize(advocate_name), normalize(newcomer)
        if not wanted or not key:
            return None
        rows = await self._all("invitations_named", (key,))
        if len(rows) >= 50:  # a common name: too many to tell apart, the code is needed
            return None
        found = [r for r in rows if normalize(r[3]) == wanted]
        return _invitation(found[0]) if len(found) == 1 else None

    async def open_invitation(self, advocate_id: int, name: str) -> tuple[Invitation | None, int]:
        """The advocate's open invitation with this name (None if none) and how many open
        invitations they have."""
        rows = await self._all("open_invitation", (advocate_id, normalize(name)))
        count = await self._all("open_count", (advocate_id,))
        return (_invitation(rows[0]) if rows else None), int(count[0][0])

    async def invitations(self, advocate_id: int, limit: int = INVITES_SHOWN) -> InviteList:
        rows = await self._all("invitations", (advocate_id, limit))
        return InviteList(tuple(_invitation(r) for r in rows))

    async def friends_page(
        self, advocate_id: int, size: int, page: int = 1, after: tuple[int, int] | None = None,
        before: tuple[int, int] | None = None,
    ) -> FriendsPage:  # fmt: skip
        """A page of friends, newest first: those joined before the cursor `after`
        (the next page), or after the cursor `before` (the previous page)."""
        if after is not None:
            rows = await self._all("friends_after", (advocate_id, *after, size + 1))
        elif before is not None:
            rows = await self._all("friends_before", (advocate_id, *before, size + 1))
        else:
            rows = await self._all("friends_first", (advocate_id, size + 1))
        more = len(rows) > size
        rows = rows[:size]
        if before is not None:
            rows.reverse()
            more = True  # we came back from a later page
        counts = await self._all("counters", (advocate_id,))
        total, finished = (counts[0][0], counts[0][1]) if counts else (0, 0)
        return FriendsPage(tuple(_friend(r) for r in rows), total, finished, page, more)

    async def helped(self, advocate_id: int) -> Helped:
        """The advocate's own counts (all zero before anyone came through them)."""
        rows = await self._all("helped", (advocate_id,))
        return Helped(*(int(n) for n in rows[0])) if rows else Helped()

    async def pending_alerts(self, advocate_id: int, limit: int = 200) -> AlertBatch:
        rows = await self._all("alerts", (advocate_id, limit + 1))
        alerts = tuple(
            Alert(r[0], r[1], r[2], r[3], r[4], from_ms(r[5]), bool(r[6])) for r in rows[:limit]
        )
        more = 0
        if len(rows) > limit:  # rare: how many wait beyond this batch, for the digest to say
            (total,) = (await self._all("alerts_count", (advocate_id,)))[0]
            more = int(total) - limit
        return AlertBatch(alerts, more=more)

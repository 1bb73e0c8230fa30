"""The delivery queues: the inbox of updates and the outbox of replies, as records and as
the SQL behind them (SQLite or PostgreSQL: `Database.dialect`).

An update is in the inbox before Telegram is told it arrived; a reply is in the outbox
from the statement that stored its turn until Telegram has accepted it. Between the two,
a crash or an outage loses nothing: the store is the only place either of them lives.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.core.events import ButtonView, Document, Send

# Rows are of kind reply, mark (the ✓ of a chosen button), notice (to a group chat),
# nudge (a reminder or an advocate's alerts: both come due in the nudge outbox) or
# broadcast (an operator's message to everyone: its body also names the job). A reply
# may carry a file (`document`: name, media type, bytes in base64).
BACKGROUND = frozenset({"nudge", "broadcast"})  # never ahead of a reply to someone's message


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One row for the outbox: a message (or the mark of a chosen button) for a chat."""

    chat_id: int
    kind: str
    body: Mapping[str, Any]

    @classmethod
    def message(cls, chat_id: int, send: Send, kind: str = "reply") -> Outgoing:
        buttons = [[b.label, b.data, b.url] for b in send.buttons]
        body: dict[str, Any] = {"text": send.text, "buttons": buttons}
        if (document := send.document) is not None:  # its bytes in base64: the body is JSON
            data = base64.b64encode(document.content).decode("ascii")
            body["document"] = {"name": document.name, "type": document.mime_type, "data": data}
        return cls(chat_id, kind, body)

    @classmethod
    def mark(cls, chat_id: int, message_id: int, label: str) -> Outgoing:
        """Show which button was chosen under an old message (its keyboard goes)."""
        return cls(chat_id, "mark", {"mark": message_id, "label": label})


@dataclass(frozen=True, slots=True)
class Delivery:
    """How a turn came and where its replies go, stored with the turn in one statement:
    the update it answers (its inbox row is then done), the rows for the outbox, and the
    claimed nudge it handled (its row goes)."""

    update_id: int | None = None
    outgoing: tuple[Outgoing, ...] = ()
    nudge_done: tuple[str, datetime] | None = None


NO_DELIVERY = Delivery()


@dataclass(frozen=True, slots=True)
class Queued:
    """A row of the outbox, as the sender reads it."""

    id: int
    chat_id: int
    kind: str
    body: Mapping[str, Any]
    created: datetime

    def as_send(self) -> Send:
        buttons = tuple(ButtonView(label, data, url) for label, data, url in self.body["buttons"])
        document = self.body.get("document")
        if document is None:
            return Send(self.body["text"], buttons)
        content = base64.b64decode(document["data"])
        return Send(
            self.body["text"], buttons, Document(document["name"], content, document["type"])
        )


def shown_body(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """An outbox body as `/mydata` shows it: a file by its name and size, not its bytes
    (else each copy asked for during an outage would hold all the copies before it)."""
    document = body.get("document")
    if not isinstance(document, Mapping) or "data" not in document:
        return body
    size = len(base64.b64decode(document["data"]))
    return {**body, "document": {"name": document.get("name"), "bytes": size}}


@dataclass(frozen=True, slots=True)
class Waiting:
    """An update in the inbox, not processed yet."""

    update_id: int
    owner: int | None
    body: str


def owner_of(update: Mapping[str, Any]) -> int | None:
    """Whose updates must keep their order: the sender, else the chat (None: nobody's).
    Read from the raw update, which may be of a shape nothing else understands."""
    for value in update.values():
        if not isinstance(value, Mapping):
            continue
        for holder in (value.get("from"), value.get("chat"), value.get("message", {}).get("chat")):
            if isinstance(holder, Mapping) and isinstance(holder.get("id"), int):
                return int(holder["id"])
    return None


def to_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


Statement = tuple[str, Sequence[Sequence[Any]]]  # SQL and the rows it is run for

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


def dialect_of(source: object) -> str:
    """The SQL dialect of a store, or of the store behind one of its bound methods (the
    query modules are handed `store.fetch_all`); SQLite when it does not say."""
    owner = getattr(source, "__self__", source)
    dialect = getattr(owner, "dialect", SQLITE)
    return dialect if isinstance(dialect, str) else SQLITE


class Database(Protocol):
    """What the queues need of the store: group-committed writes and reads."""

    @property
    def dialect(self) -> str:
        """Which SQL the store speaks: "sqlite" or "postgresql"."""

    async def write(self, *statements: Statement) -> int:
        """Run the statements in one transaction (committed with others waiting); how
        many rows they changed."""

    async def fetch_all(self, query: str, args: Sequence[Any] = ()) -> list[Any]: ...


class SqlInbox:
    """The inbox on the store's database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, updates: Iterable[tuple[int, str, int | None]], now: datetime) -> int:
        """Store (update_id, raw JSON, owner) rows in one batch; an id already there (a
        redelivery, waiting or done) is ignored by the insert. How many were new."""
        rows = [(uid, owner, body, to_ms(now)) for uid, body, owner in updates]
        sql = (
            "INSERT INTO inbox (update_id, owner, body, received_ms) VALUES (?,?,?,?) "
            "ON CONFLICT DO NOTHING"
        )
        return await self._db.write((sql, rows)) if rows else 0

    async def waiting(self, after: int = -1, limit: int = 1000) -> list[Waiting]:
        """Updates not processed yet, oldest first, from the id after `after`."""
        rows = await self._db.fetch_all(
            "SELECT update_id, owner, body FROM inbox WHERE done_ms IS NULL AND update_id > ? "
            "ORDER BY update_id LIMIT ?",
            (after, limit),
        )
        return [Waiting(int(r[0]), r[1], str(r[2])) for r in rows]

    async def waiting_of(self, owner: int) -> list[Waiting]:
        """One person's updates not processed yet, oldest first (added by the lead)."""
        rows = await self._db.fetch_all(
            "SELECT update_id, owner, body FROM inbox WHERE owner = ? AND done_ms IS NULL "
            "ORDER BY update_id",
            (owner,),
        )
        return [Waiting(int(r[0]), r[1], str(r[2])) for r in rows]

    async def done(self, update_ids: Sequence[int], now: datetime) -> None:
        """Updates handled without a turn (a block, a group message): their body goes."""
        sql = "UPDATE inbox SET body = NULL, done_ms = ? WHERE update_id = ? AND done_ms IS NULL"
        await self._db.write((sql, [(to_ms(now), uid) for uid in update_ids]))

    async def set_aside(self, update_id: int, error: str, now: datetime) -> None:
        """An update that cannot be read: out of the inbox, into `poison_updates`."""
        ms = to_ms(now)
        await self._db.write(
            (
                "INSERT INTO poison_updates (update_id, body, error, at_ms) "
                "SELECT update_id, body, ?, ? FROM inbox WHERE update_id = ? AND body IS NOT NULL "
                "ON CONFLICT DO NOTHING",
                [(error, ms, update_id)],
            ),
            ("UPDATE inbox SET body = NULL, done_ms = ? WHERE update_id = ?", [(ms, update_id)]),
        )

    async def poison(self, limit: int = 50) -> list[tuple[int, str, datetime, str]]:
        """Updates set aside, newest first: (update id, error, when, raw JSON)."""
        rows = await self._db.fetch_all(
            "SELECT update_id, error, at_ms, body FROM poison_updates "
            "ORDER BY at_ms DESC, update_id DESC LIMIT ?",
            (limit,),
        )
        return [(int(r[0]), str(r[1]), from_ms(r[2]), str(r[3])) for r in rows]


# ids given as one JSON array parameter
_IDS = {
    SQLITE: "SELECT value FROM json_each(?)",
    POSTGRESQL: "SELECT jsonb_array_elements_text(?::jsonb)::bigint",
}


class SqlOutbox:
    """The reply outbox on the store's database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, rows: Sequence[Outgoing], now: datetime) -> None:
        """Rows decided outside a turn (a notice to a group chat)."""
        sql = "INSERT INTO outbox (chat_id, kind, body, created_ms) VALUES (?, ?, ?, ?)"
        ms = to_ms(now)
        values = [(o.chat_id, o.kind, json.dumps(o.body, ensure_ascii=False), ms) for o in rows]
        await self._db.write((sql, values))

    async def after(self, last_id: int, limit: int = 5000) -> list[Queued]:
        """Rows after `last_id`, in id order (the order each chat's rows are sent in)."""
        rows = await self._db.fetch_all(
            "SELECT id, chat_id, kind, body, created_ms FROM outbox WHERE id > ? "
            "ORDER BY id LIMIT ?",
            (last_id, limit),
        )
        return [
            Queued(int(r[0]), int(r[1]), str(r[2]), json.loads(r[3]), from_ms(r[4])) for r in rows
        ]

    async def ids(self, limit: int) -> list[int]:
        """The ids of the first `limit` rows (from the index alone: no body is read)."""
        rows = await self._db.fetch_all("SELECT id FROM outbox ORDER BY id LIMIT ?", (limit,))
        return [int(r[0]) for r in rows]

    async def rows(self, ids: Sequence[int]) -> list[Queued]:
        """These rows (those still there), in id order."""
        if not ids:
            return []
        wanted = _IDS[dialect_of(self._db)]
        rows = await self._db.fetch_all(
            f"SELECT id, chat_id, kind, body, created_ms FROM outbox WHERE id IN ({wanted}) "
            "ORDER BY id",
            (json.dumps(list(ids)),),
        )
        return [
            Queued(int(r[0]), int(r[1]), str(r[2]), json.loads(r[3]), from_ms(r[4])) for r in rows
        ]

    async def sent(self, ids: Sequence[int]) -> None:
        """Rows Telegram accepted: gone."""
        if ids:
            await self._db.write(("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids]))

    async def drop(self, ids: Sequence[int], reason: str, now: datetime) -> None:
        """Rows that will never be sent (too old, chat blocked, refused): recorded in the
        person's event log, then gone. A broadcast's recipient is marked blocked (or
        refused) first: the row's deletion would otherwise count it as sent."""
        if not ids:
            return
        pg = self._db.dialect == POSTGRESQL
        data = (
            "jsonb_build_object('kind', kind, 'reason', ?::text)::text"
            if pg
            else "json_object('kind', kind, 'reason', ?)"
        )
        record = (
            "INSERT INTO events (user_id, at, name, data) "
            f"SELECT chat_id, ?, 'reply_dropped', {data} "
            "FROM outbox WHERE id = ? AND chat_id IN (SELECT user_id FROM users)"
        )
        job = "(body::jsonb ->> 'broadcast')::bigint" if pg else "json_extract(body, '$.broadcast')"
        recipient = (
            "UPDATE broadcast_recipients SET state = ? WHERE state = 'queued' "
            f"AND (broadcast_id, user_id) = (SELECT {job}, chat_id "
            "FROM outbox WHERE id = ? AND kind = 'broadcast')"
        )
        settled = "blocked" if reason == "blocked" else "refused"
        await self._db.write(
            (record, [(now.isoformat(), reason, i) for i in ids]),
            (recipient, [(settled, i) for i in ids]),
            ("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids]),
        )

    async def count(self) -> int:
        (row,) = await self._db.fetch_all("SELECT count(*) FROM outbox")
        return int(row[0])

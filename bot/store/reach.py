"""How far people went: per node, how many reached it and how many stand there now.

Read from a database beside a running bot, opened read-only (as `vie-coach unknown`
does): nothing is created, nothing is migrated, and no one is named.

**Reached** a node: the distinct people with an event that names it (they pressed a
button there, typed something there, were understood or not there, or answered its
typed question), or who stand there now. A node passed through by `goto` waits for no
one, so nobody acts there and it counts only those standing on it; a node someone was
shown and then left by a command (/restart, /stop) does not count them either. The event
log is kept until a person's /forget, so the counts cover the bot's whole life.
**Here now**: the people whose conversation is at that node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.store.opening import open_store
from bot.store.queues import POSTGRESQL, SQLITE

# the events whose `data.node` is where the person was when they acted ("flow.node")
NODE_EVENTS = (
    "press",
    "text_press",
    "text_match",
    "text_heard",
    "fallback",
    "meant",
    "answer",
    "answer_refused",
)

_HERE = """
SELECT flow || '.' || node AS key, count(*) FROM conversations
WHERE flow IS NOT NULL AND node IS NOT NULL GROUP BY key
"""
# UNION, not UNION ALL: a person counts once per node, however often they acted there.
# The node in an event's JSON: SQLite skips a row that is not JSON; PostgreSQL 15 has no
# such test, so it reads only data shaped like an object (the CASE keeps the cast from
# meeting anything else: the outer WHERE is pushed down into the scan, maybe run first).
_NODE = {
    SQLITE: "json_extract(data, '$.node') AS key FROM events WHERE {names} AND json_valid(data)",
    POSTGRESQL: "CASE WHEN data LIKE '{{%}}' THEN CAST(data AS jsonb) ->> 'node' END AS key "
    "FROM events WHERE {names}",
}
_REACHED = """
SELECT key, count(*) FROM (
    SELECT user_id, {node}
    UNION
    SELECT user_id, flow || '.' || node FROM conversations
    WHERE flow IS NOT NULL AND node IS NOT NULL
) AS reached WHERE key IS NOT NULL AND key != '' GROUP BY key
"""
REACHED = {
    dialect: _REACHED.format(
        node=node.format(names=f"name IN ({', '.join('?' for _ in NODE_EVENTS)})")
    )
    for dialect, node in _NODE.items()
}
_PEOPLE = "SELECT count(*), coalesce(sum(CASE WHEN finished != 0 THEN 1 ELSE 0 END), 0) FROM users"


@dataclass(frozen=True, slots=True)
class Reach:
    """ "flow.node" -> (people who reached it, people there now); nodes nobody reached
    are absent. Keys may name nodes the dialogs no longer have."""

    nodes: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    people: int = 0  # everyone the store knows
    finished: int = 0  # of whom finished the journey

    def at(self, key: str) -> tuple[int, int]:
        return self.nodes.get(key, (0, 0))

    def renamed(self, moved: Mapping[str, object]) -> Reach:
        """The counts with those of each node's former places (`renamed_from`) added to
        it: people not yet moved are counted where they will continue."""
        if not moved:
            return self
        nodes: dict[str, tuple[int, int]] = {}
        for key, (reached, here) in self.nodes.items():
            key = str(moved.get(key, key))
            old = nodes.get(key, (0, 0))
            nodes[key] = (old[0] + reached, old[1] + here)
        return Reach(nodes, self.people, self.finished)


async def read_reach(path: str | Path) -> Reach:
    """The counts in the database at `path` (StoreError if it is missing, damaged or of
    another schema version)."""
    store = await open_store(path, read_only=True)
    try:
        here = dict(await store.fetch_all(_HERE))
        reached = await store.fetch_all(REACHED[store.dialect], NODE_EVENTS)
        ((people, finished),) = await store.fetch_all(_PEOPLE)
    finally:
        await store.close()
    nodes = {str(key): (int(count), int(here.get(key, 0))) for key, count in reached}
    return Reach(nodes, int(people), int(finished))

"""What the operators' console reads: per node the people who reached it, and the texts
not understood by how often, from the counters of migration 0009 (PostgreSQL 0002).

Neither reads the event log nor the texts themselves: `funnel_reach` holds a few rows per
cohort day and node, `unknown_counts` one per node, language and way of writing, ordered
by an index, so that a page costs about the same at 1,000 or 100,000 people. Both take
the store's `fetch_all` and ask it which database it is (`dialect_of`), like the funnel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from bot.store.queues import POSTGRESQL, SQLITE, dialect_of

FetchAll = Callable[[str, Sequence[Any]], Awaitable[list[Any]]]

# One index range per call: all days, from a day, up to a day, or between two.
_REACH = "SELECT node, sum(n) FROM funnel_reach{where} GROUP BY node HAVING sum(n) != 0"
# Code point order on both (PostgreSQL would use the locale's): the columns are "C" there.
_C = {SQLITE: "", POSTGRESQL: ' COLLATE "C"'}
_TOP = """SELECT node, lang, text, n FROM unknown_counts{where}
ORDER BY n DESC, node{c}, text{c}, lang{c} LIMIT ?"""


async def node_reach(
    fetch_all: FetchAll, first_day: date | None = None, last_day: date | None = None
) -> dict[str, int]:
    """Per "flow.node", the people who reached it, of the cohort days from `first_day` to
    `last_day` (both included; None: no bound). Nodes nobody reached are absent."""
    bounds, args = [], []
    if first_day is not None:
        bounds.append("day >= ?")
        args.append(first_day.isoformat())
    if last_day is not None:
        bounds.append("day <= ?")
        args.append(last_day.isoformat())
    where = f" WHERE {' AND '.join(bounds)}" if bounds else ""
    rows = await fetch_all(_REACH.format(where=where), args)
    return {str(node): int(n) for node, n in rows}


async def top_unknown(
    fetch_all: FetchAll, limit: int, node: str | None = None
) -> list[tuple[str, str, str, int]]:
    """The texts not understood that the store keeps, most frequent first (ties by node,
    then text, in code point order): (node, language, one way it was written, how many
    times), overall or at one node; never who wrote them."""
    c = _C[dialect_of(fetch_all)]
    where, args = ("", [limit]) if node is None else (" WHERE node = ?", [node, limit])
    rows = await fetch_all(_TOP.format(where=where, c=c), args)
    return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

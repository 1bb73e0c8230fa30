"""The SQL of the funnel report, and the names the counters of migration 0006 use.

The counters are kept by triggers: `funnel_counts` by cohort day and language (and lang
'' for everyone), `funnel_advocates` by cohort day and direct advocate, `funnel_nodes`
and `funnel_spots` for where the people not finished stand. Each query reads the rows
of the window's cohort days through the primary key (the days are given as a JSON list,
one look-up each) and sums them in SQL, so that Python receives one row per group and
metric, whatever the number of people.

A metric `w:<day>` (someone not finished, last active that day) is turned into
`quiet:<days>` (how many days after their start they were last seen) when that day is on
or before the quiet cut-off, and left out otherwise: `quiet:*` rows are exactly the
people who went quiet, by how long they stayed.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.queues import POSTGRESQL, SQLITE

# Duration buckets (migration 0006's CASE): bucket i holds [EDGES[i-1], EDGES[i]) hours,
# bucket 0 under an hour, the last one EDGES[-1] hours (60 days) or more.
EDGES_HOURS = (1, 3, 6, 12, 24, 48, 72, 120, 168, 336, 720, 1440)

STARTED = "started"
OFF = "off"
NUDGES = "nudges"
BACK = "back"
ERASED = "erased"
MILESTONE = "m:"
STAGE = "s:"
TO_STAGE = "h:"  # h:<stage>:<bucket>
BETWEEN = "g:"  # g:<stage>><next>:<bucket>
QUIET = "quiet:"  # quiet:<days>, made by the queries below from last:<day>

NOBODY = 0  # funnel_advocates.advocate of people nobody invited
LEFT = -1  # ... of people whose advocate erased their data


def span(bucket: int) -> tuple[int, int | None]:
    """The hours a bucket covers: (low, high), high None for the open last one."""
    low = 0 if bucket == 0 else EDGES_HOURS[bucket - 1]
    high = EDGES_HOURS[bucket] if bucket < len(EDGES_HOURS) else None
    return low, high


# What differs between the dialects, by part: the cohort days given as a JSON list (one
# index look-up each), a day as the UTC date of an ISO-8601 time, the whole days between
# two dates, and text compared by code point (PostgreSQL would use the locale's order).
_PARTS = {
    SQLITE: {
        "days": "IN (SELECT value FROM json_each(?))",
        "ids": "IN (SELECT value FROM json_each(?))",
        "date": "date({})",
        "gap": "CAST(round(julianday(substr(metric, 3)) - julianday(day)) AS INTEGER)",
        "c": "",
        "text": "?",
    },
    POSTGRESQL: {
        "days": "= ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb))))",
        "ids": "= ANY (ARRAY(SELECT CAST(jsonb_array_elements_text(CAST(? AS jsonb)) AS bigint)))",
        "date": "iso_day({})",  # the schema's: the day its triggers key the counters by
        "gap": "(CAST(substr(metric, 3) AS date) - CAST(day AS date))",
        "c": ' COLLATE "C"',
        "text": "CAST(? AS text)",  # a parameter's type is not guessed from `||`
    },
}


def counts(table: str, group: str, where: str = "", dialect: str = SQLITE) -> str:
    """Sums by `group` (a column of `table`, or '' for one group) and metric over the
    cohort days ? (JSON list), then `quiet:<days>` over the days ? up to the cut-off ?."""
    p = _PARTS[dialect]
    extra = f" AND {where}" if where else ""
    figures = f"metric{p['c']} < 'w:'"
    quiet = f"metric{p['c']} BETWEEN 'w:' AND 'w:' || {p['text']}"
    return f"""SELECT {group}, metric, sum(n) FROM {table}
               WHERE day {p["days"]}{extra} AND {figures} GROUP BY 1, 2 HAVING sum(n) != 0
               UNION ALL
               SELECT {group}, 'quiet:' || {p["gap"]}, sum(n) FROM {table}
               WHERE day {p["days"]}{extra} AND {quiet} GROUP BY 1, 2 HAVING sum(n) != 0"""


def _by_variant(dialect: str) -> str:
    """Each arm's people (their first exposure's arm), computed person by person from
    their rows (the view every counter is defined by): the arms are not counter keys,
    since a person is exposed long after their start. Parameters as for `counts`."""
    p = _PARTS[dialect]
    day = p["date"].format("u.created_at")
    return f"""
WITH exposed AS MATERIALIZED (
    SELECT e.experiment || '/' || e.arm AS grp, p.metric, p.n, {day} AS day
    FROM exposures e JOIN users u ON u.user_id = e.user_id
    JOIN funnel_person p ON p.user_id = e.user_id
    WHERE {day} {p["days"]}
)
SELECT grp, metric, sum(n) FROM exposed WHERE metric{p["c"]} < 'w:'
GROUP BY 1, 2 HAVING sum(n) != 0
UNION ALL
SELECT grp, 'quiet:' || {p["gap"]}, sum(n)
FROM exposed WHERE day {p["days"]}
AND metric{p["c"]} BETWEEN 'w:' AND 'w:' || {p["text"]}
GROUP BY 1, 2 HAVING sum(n) != 0"""


@dataclass(frozen=True, slots=True)
class Queries:
    """The report's SQL in one dialect."""

    total: str
    by_language: str
    by_day: str
    by_advocate: str
    by_variant: str
    drop_off: str
    advocates: str
    anyone: str


def _queries(dialect: str) -> Queries:
    p = _PARTS[dialect]
    return Queries(
        total=counts("funnel_counts", "''", "lang = ''", dialect),
        by_language=counts("funnel_counts", "lang", "lang > ''", dialect),
        by_day=counts("funnel_counts", "day", "lang = ''", dialect),
        by_advocate=counts("funnel_advocates", "advocate", "", dialect),
        by_variant=_by_variant(dialect),
        # Where the people who went quiet stand: those not finished of the cohort days up
        # to the cut-off (? as a JSON list) by node ('all'), and those of them active
        # after the cut-off (?, ?) by node ('active'); the drop-off is the difference
        # (two sums are cheaper than one over both).
        drop_off=f"""SELECT 'all', node, sum(n) FROM funnel_nodes
              WHERE day {p["days"]} GROUP BY node
              UNION ALL
              SELECT 'active', node, sum(n) FROM funnel_spots
              WHERE day {p["days"]} AND last_day{p["c"]} > {p["text"]} GROUP BY node""",
        # The advocates' first names, for those who chose to be public.
        advocates=f"SELECT user_id, first_name, public FROM users WHERE user_id {p['ids']}",
        anyone="SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM funnel_counts)",
    )


QUERIES = {dialect: _queries(dialect) for dialect in _PARTS}

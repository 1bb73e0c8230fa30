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


_FIGURES = "metric < 'w:'"
_QUIET = "metric BETWEEN 'w:' AND 'w:' || ?"
_GAP = "'quiet:' || CAST(round(julianday(substr(metric, 3)) - julianday(day)) AS INTEGER)"
_DAYS = "day IN (SELECT value FROM json_each(?))"


def counts(table: str, group: str, where: str = "") -> str:
    """Sums by `group` (a column of `table`, or '' for one group) and metric over the
    cohort days ? (JSON list), then `quiet:<days>` over the days ? up to the cut-off ?."""
    extra = f" AND {where}" if where else ""
    return f"""SELECT {group}, metric, sum(n) FROM {table}
               WHERE {_DAYS}{extra} AND {_FIGURES} GROUP BY 1, 2 HAVING sum(n) != 0
               UNION ALL
               SELECT {group}, {_GAP}, sum(n) FROM {table}
               WHERE {_DAYS}{extra} AND {_QUIET} GROUP BY 1, 2 HAVING sum(n) != 0"""


TOTAL = counts("funnel_counts", "''", "lang = ''")
BY_LANGUAGE = counts("funnel_counts", "lang", "lang > ''")
BY_DAY = counts("funnel_counts", "day", "lang = ''")
BY_ADVOCATE = counts("funnel_advocates", "advocate")

# Each arm's people (their first exposure's arm), computed person by person from their
# rows (the view every counter is defined by): the arms are not counter keys, since a
# person is exposed long after their start. Parameters as for `counts`.
BY_VARIANT = """
WITH exposed AS MATERIALIZED (
    SELECT e.experiment || '/' || e.arm AS grp, p.metric, p.n, date(u.created_at) AS day
    FROM exposures e JOIN users u ON u.user_id = e.user_id
    JOIN funnel_person p ON p.user_id = e.user_id
    WHERE date(u.created_at) IN (SELECT value FROM json_each(?))
)
SELECT grp, metric, sum(n) FROM exposed WHERE metric < 'w:' GROUP BY 1, 2 HAVING sum(n) != 0
UNION ALL
SELECT grp, 'quiet:' || CAST(round(julianday(substr(metric, 3)) - julianday(day)) AS INTEGER),
       sum(n)
FROM exposed WHERE day IN (SELECT value FROM json_each(?)) AND metric BETWEEN 'w:' AND 'w:' || ?
GROUP BY 1, 2 HAVING sum(n) != 0"""

# Where the people who went quiet stand: those not finished of the cohort days up to the
# cut-off (? as a JSON list) by node ('all'), and those of them active after the cut-off
# (?, ?) by node ('active'); the drop-off is the difference (two sums are cheaper than
# one over both).
DROP_OFF = """SELECT 'all', node, sum(n) FROM funnel_nodes
              WHERE day IN (SELECT value FROM json_each(?)) GROUP BY node
              UNION ALL
              SELECT 'active', node, sum(n) FROM funnel_spots
              WHERE day IN (SELECT value FROM json_each(?)) AND last_day > ? GROUP BY node"""

# The advocates' first names, for those who chose to be public.
ADVOCATES = """SELECT user_id, first_name, public FROM users
               WHERE user_id IN (SELECT value FROM json_each(?))"""

ANYONE = "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM funnel_counts)"

"""The counts of an A/B experiment, read from the `exposures` table (migration 0007).

An arm's exposures are the people whose first exposure to the experiment was to that arm
(one row each: assignment is sticky); its conversions are those of them who reached the
experiment's outcome AFTER that first exposure: the milestone (`milestone:<name>`, from
milestones.reached_at) or the stage (`stage:<V|I|E>`, from stages_completed.completed_at).
Someone who had already reached it before seeing any variant counts as exposed and not
converted (`already`): what the text could not have caused is no one's success, and the
arms stay comparable since the split is random. Reached in the same turn as the first
exposure counts as before: the person had not read the text yet.

One query, grouped by arm: each person costs two primary-key look-ups, whatever the size
of the event log. People who used /forget are gone with their rows (ON DELETE CASCADE).

`experiment_tallies` gives the same figures from the `experiment_tallies` table (migration
0010, PostgreSQL 0003), kept by triggers per cohort day: a few rows per day read, whatever
the number of people (the console's pages). `experiment_counts` stays, the recount the
tests hold the tallies to, and the command line's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.core.model import Experiment
from bot.errors import ConfigError
from bot.store.queues import POSTGRESQL, SQLITE, dialect_of

# Runs one read query between the store's own statements (`store.fetch_all`).
FetchAll = Callable[[str, Sequence[Any]], Awaitable[list[Any]]]

# ISO-8601 text (with its offset) to ms since the epoch, rounded like the store's to_ms
# and like the trigger that fills exposures.at_ms (on PostgreSQL the schema's iso_ms,
# which reads the text as SQLite's julianday does: a conversion in the same turn as the
# exposure then counts as before it, on both).
_MS = {
    SQLITE: "CAST(round((julianday({}) - 2440587.5) * 86400000) AS INTEGER)",
    POSTGRESQL: "iso_ms({})",
}

_REACHED = """CASE
               WHEN substr(e.outcome, 1, 10) = 'milestone:' THEN (
                   SELECT m.reached_at FROM milestones m
                   WHERE m.user_id = e.user_id AND m.milestone = substr(e.outcome, 11))
               WHEN substr(e.outcome, 1, 6) = 'stage:' THEN (
                   SELECT s.completed_at FROM stages_completed s
                   WHERE s.user_id = e.user_id AND s.stage = substr(e.outcome, 7))
           END"""

_COUNTS = """
WITH exposed AS MATERIALIZED (  -- each person's look-ups once, not once per sum
    SELECT e.arm, e.outcome, e.at_ms, {reached} AS reached_ms
    FROM exposures e WHERE e.experiment = ?
)
SELECT arm, outcome, count(*), coalesce(sum(CASE WHEN reached_ms > at_ms THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN reached_ms <= at_ms THEN 1 ELSE 0 END), 0), min(at_ms), max(at_ms)
FROM exposed GROUP BY arm, outcome ORDER BY arm, outcome
"""
COUNTS_BY_DIALECT = {d: _COUNTS.format(reached=ms.format(_REACHED)) for d, ms in _MS.items()}
COUNTS = COUNTS_BY_DIALECT[SQLITE]

NAMES = "SELECT DISTINCT experiment FROM exposures ORDER BY experiment"

# The same rows as COUNTS, from the tallies (the same SQL on both databases)
TALLIES = """
SELECT arm, outcome, sum(exposed), sum(converted), sum(already), min(first_ms), max(last_ms)
FROM experiment_tallies WHERE experiment = ? GROUP BY arm, outcome ORDER BY arm, outcome
"""
TALLIED_NAMES = "SELECT DISTINCT experiment FROM experiment_tallies"


class UnknownExperiment(ConfigError):
    """No one has been exposed to an experiment of that name: the message names it and
    lists the experiments that have exposures (a command-line value: exit code 2)."""

    def __init__(
        self, name: str, known: Sequence[str], defined: Mapping[str, Experiment] | None = None
    ) -> None:
        self.name = name
        self.known = tuple(known)
        if known:
            hint = "experiments with exposures: " + ", ".join(known)
        else:
            hint = (
                "no experiment has any exposure yet (a node's `say:` with variants logs "
                "one each time it is shown)"
            )
        if defined and name in defined:
            where = defined[name].node
            hint = f"it is in the dialogs, at {where}: wait for people to reach it; {hint}"
        elif defined:
            hint += "; in the dialogs: " + ", ".join(sorted(defined))
        super().__init__(f"no one has seen experiment {name!r} yet; {hint}")


@dataclass(frozen=True, slots=True)
class ArmTally:
    arm: str
    exposures: int  # distinct people whose first exposure was to this arm
    conversions: int  # of them, those who reached the outcome after it
    already: int  # of them, those who had reached it before (or in the same turn)


@dataclass(frozen=True, slots=True)
class ExperimentCounts:
    name: str
    arms: tuple[ArmTally, ...]  # by arm name
    outcomes: tuple[str, ...]  # "milestone:<name>" | "stage:<S>"; more than one if it changed
    first: datetime  # the earliest first exposure
    last: datetime  # the latest first exposure


async def experiment_names(fetch_all: FetchAll) -> list[str]:
    """The experiments someone has been exposed to, by name (in code point order,
    whatever the database's locale)."""
    return sorted(str(row[0]) for row in await fetch_all(NAMES, ()))


async def experiment_counts(
    fetch_all: FetchAll, name: str, *, dialect: str | None = None
) -> ExperimentCounts:
    """Each arm's exposures and conversions; UnknownExperiment if no one was exposed.
    The SQL is the dialect's (by default that of the store `fetch_all` belongs to)."""
    rows = await fetch_all(COUNTS_BY_DIALECT[dialect or dialect_of(fetch_all)], (name,))
    if not rows:
        raise UnknownExperiment(name, await experiment_names(fetch_all))
    return _counts(name, rows)


async def tallied_names(fetch_all: FetchAll) -> list[str]:
    """The experiments someone has been exposed to, from the tallies (in code point
    order): the same as `experiment_names`."""
    return sorted(str(row[0]) for row in await fetch_all(TALLIED_NAMES, ()))


async def experiment_tallies(
    fetch_all: FetchAll, name: str, *, dialect: str | None = None
) -> ExperimentCounts:
    """`experiment_counts`' figures, read from the tallies the triggers keep (summed over
    cohort days); UnknownExperiment if no one was exposed. `dialect` is accepted for the
    same call as `experiment_counts`: the SQL is the same on both databases."""
    del dialect
    rows = await fetch_all(TALLIES, (name,))
    if not rows:
        raise UnknownExperiment(name, await tallied_names(fetch_all))
    return _counts(name, rows)


def _counts(name: str, rows: Sequence[Any]) -> ExperimentCounts:
    """Rows of (arm, outcome, exposed, converted, already, first ms, last ms)."""
    by_arm: dict[str, tuple[int, int, int]] = {}
    outcomes: set[str] = set()
    for arm, outcome, exposed, converted, already, _, _ in rows:
        n, k, a = by_arm.get(arm, (0, 0, 0))
        by_arm[str(arm)] = (n + int(exposed), k + int(converted), a + int(already))
        outcomes.add(str(outcome))
    return ExperimentCounts(
        name,
        tuple(ArmTally(arm, n, k, a) for arm, (n, k, a) in sorted(by_arm.items())),
        tuple(sorted(outcomes)),
        _moment(min(int(r[5]) for r in rows)),
        _moment(max(int(r[6]) for r in rows)),
    )


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)

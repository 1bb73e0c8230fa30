"""The experiment tallies kept by triggers (SQLite migration 0010, PostgreSQL 0003) against
the recount (`experiment_counts`), on both stores: after scripted, chatted and random
turns, direct deletes in every order, /forget, and the migration's backfill of a database
with history. Every check compares the table row by row (per cohort day) with a recount
written apart, and the figures the console reads with the recount's."""

from __future__ import annotations

import itertools
import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot.app.bootstrap import standard_features
from bot.dialogs.load import load_dialogs
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore, SqlStore, open_store
from bot.store.experiments import (
    TALLIES,
    ArmTally,
    UnknownExperiment,
    experiment_counts,
    experiment_names,
    experiment_tallies,
    tallied_names,
)
from bot.testing import ChatHarness, FakeClock

from .conftest import LANGS, ROOT, postgresql_at, sqlite_at
from .test_experiments import OUTCOME, T0, exposure, turn

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
VARIANTS = ROOT / "tests" / "fixtures" / "variants"
DAY1, DAY2 = "2026-03-01", "2026-03-02"

# The tallies recounted by cohort day from the rows there now, written apart from the
# triggers' view: the outcome found by joins, each dialect's day and milliseconds.
_RECOUNT = """
SELECT {day}, e.experiment, e.arm, e.outcome, count(*),
       sum(CASE WHEN r.ms > e.at_ms THEN 1 ELSE 0 END),
       sum(CASE WHEN r.ms <= e.at_ms THEN 1 ELSE 0 END), min(e.at_ms), max(e.at_ms)
FROM exposures e JOIN users u ON u.user_id = e.user_id
JOIN (SELECT e2.experiment, e2.user_id, {ms} AS ms
      FROM exposures e2
      LEFT JOIN milestones m ON m.user_id = e2.user_id AND 'milestone:' || m.milestone = e2.outcome
      LEFT JOIN stages_completed s ON s.user_id = e2.user_id AND 'stage:' || s.stage = e2.outcome
     ) r ON r.experiment = e.experiment AND r.user_id = e.user_id
GROUP BY 1, 2, 3, 4
"""
RECOUNT = {
    "sqlite": _RECOUNT.format(
        day="date(u.created_at)",
        ms="CAST(round((julianday(coalesce(m.reached_at, s.completed_at)) - 2440587.5)"
        " * 86400000) AS INTEGER)",
    ),
    "postgresql": _RECOUNT.format(
        day="iso_day(u.created_at)", ms="iso_ms(coalesce(m.reached_at, s.completed_at))"
    ),
}


def _rows(rows: list[Any]) -> list[tuple[Any, ...]]:
    return sorted(tuple(int(v) if not isinstance(v, str) else v for v in r) for r in rows)


async def check(store: SqlStore) -> None:
    """The table is the recount by cohort day, and the console's figures the report's."""
    kept = await store.fetch_all("SELECT * FROM experiment_tallies")
    assert _rows(kept) == _rows(await store.fetch_all(RECOUNT[store.dialect]))
    names = await experiment_names(store.fetch_all)
    assert await tallied_names(store.fetch_all) == names
    for name in names:
        tallied = await experiment_tallies(store.fetch_all, name)
        assert tallied == await experiment_counts(store.fetch_all, name), name


async def day_rows(store: SqlStore, experiment: str) -> list[tuple[Any, ...]]:
    rows = await store.fetch_all(
        "SELECT day, arm, outcome, exposed, converted, already, first_ms, last_ms"
        " FROM experiment_tallies WHERE experiment = ?",
        (experiment,),
    )
    return _rows(rows)


def ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


async def test_a_scripted_history_on_both_stores(any_store: SqlStore) -> None:
    """Conversions after the exposure, an outcome reached before it or in the same turn, a
    stage as outcome, a later exposure to another arm, two cohort days, two experiments;
    then /forget of converted, already and exposed people, bounds recomputed."""
    s, minute = any_store, timedelta(minutes=1)
    steps: list[tuple[Any, ...]] = [
        (1, T0, (exposure("short"),), ()),
        (1, T0 + HOUR, (), ("i_time",)),  # converts an hour later
        (2, T0 + minute, (), ("i_time",)),  # had it before seeing anything: already
        (2, T0 + 2 * minute, (exposure("short"),), ()),
        (3, T0 + 3 * minute, (exposure("short"),), ("i_time",)),  # same turn: already
        (4, T0 + 4 * minute, (exposure("short"), exposure("a", "second")), ()),
        (5, T0 + 5 * minute, (exposure("long"),), ()),
        (5, T0 + HOUR, (exposure("short"),), ()),  # sticky: the first arm stays
        (5, T0 + 2 * HOUR, (), ("i_time", "other")),
        (6, T0, (), ("i_time",)),  # never exposed: not counted
        (7, T0 + 6 * minute, (exposure("long", outcome="stage:I"),), ()),
        (8, T0 + DAY, (exposure("long"), exposure("b", "second")), ()),  # cohort day 2
        (8, T0 + DAY + HOUR, (), ("i_time",)),
    ]
    for uid, at, records, reached in steps:
        await turn(s, uid, at, *records, milestones=reached)
        await check(s)
    await turn(s, 7, T0 + 6 * minute + timedelta(milliseconds=1), stages=("I",))
    await check(s)
    counts = await experiment_tallies(s.fetch_all, "welcome_wording")
    assert counts.arms == (ArmTally("long", 3, 3, 0), ArmTally("short", 4, 1, 2))
    assert counts.outcomes == (OUTCOME, "stage:I")
    assert (counts.first, counts.last) == (T0, T0 + DAY)
    assert await day_rows(s, "welcome_wording") == [
        (DAY1, "long", OUTCOME, 1, 1, 0, ms(T0 + 5 * minute), ms(T0 + 5 * minute)),
        (DAY1, "long", "stage:I", 1, 1, 0, ms(T0 + 6 * minute), ms(T0 + 6 * minute)),
        (DAY1, "short", OUTCOME, 4, 1, 2, ms(T0), ms(T0 + 4 * minute)),
        (DAY2, "long", OUTCOME, 1, 1, 0, ms(T0 + DAY), ms(T0 + DAY)),
    ]
    # /forget: the earliest short (converted), the one who had it already, the latest
    # short (never converted): the bounds are RECOMPUTED from the people left
    for uid in (1, 2, 4):
        await s.forget(uid)
        await check(s)
    assert await day_rows(s, "welcome_wording") == [
        (DAY1, "long", OUTCOME, 1, 1, 0, ms(T0 + 5 * minute), ms(T0 + 5 * minute)),
        (DAY1, "long", "stage:I", 1, 1, 0, ms(T0 + 6 * minute), ms(T0 + 6 * minute)),
        (DAY1, "short", OUTCOME, 1, 0, 1, ms(T0 + 3 * minute), ms(T0 + 3 * minute)),
        (DAY2, "long", OUTCOME, 1, 1, 0, ms(T0 + DAY), ms(T0 + DAY)),
    ]
    await s.forget(8)  # the only one of their cohort day: its rows go
    await check(s)
    assert await day_rows(s, "second") == []
    assert await tallied_names(s.fetch_all) == ["welcome_wording"]
    with pytest.raises(UnknownExperiment, match="experiments with exposures: welcome_wording"):
        await experiment_tallies(s.fetch_all, "second")
    for uid in (3, 5, 7):
        await s.forget(uid)
    await check(s)
    assert await s.fetch_all("SELECT * FROM experiment_tallies") == []
    with pytest.raises(UnknownExperiment, match="no experiment has any exposure yet"):
        await experiment_tallies(s.fetch_all, "welcome_wording")


async def test_deletes_in_every_order_and_then_the_cascade(any_store: SqlStore) -> None:
    """A person's exposures, milestones and stages deleted one table at a time, in each of
    the six orders, while they stay; then the person (what is left goes by the cascade).
    Others of the same cohort day hold the bounds on either side, and then lose them."""
    s = any_store
    tables = {
        "exposures": "DELETE FROM exposures WHERE user_id = ?",
        "milestones": "DELETE FROM milestones WHERE user_id = ?",
        "stages": "DELETE FROM stages_completed WHERE user_id = ?",
    }
    for i, order in enumerate(itertools.permutations(tables)):
        exp, base, uid = f"e{i}", T0 + i * timedelta(minutes=10), 10 * i + 1
        shown = (exposure("a", exp), exposure("a", f"{exp}s", "stage:V"))
        await turn(s, uid + 1, base, *shown)  # before: the first bound
        await turn(s, uid, base + timedelta(minutes=1), *shown, milestones=("i_time",))
        await turn(s, uid, base + timedelta(minutes=2), stages=("V",))
        await turn(s, uid + 2, base + timedelta(minutes=3), *shown)  # after: the last bound
        await check(s)
        for table in order:
            await s.write((tables[table], [(uid,)]))
            await check(s)
        await s.forget(uid)
        await check(s)
        await s.forget(uid + 1)  # the bounds' holders leave: recomputed on either side
        await check(s)
        assert await day_rows(s, exp) == [
            (DAY1, "a", OUTCOME, 1, 0, 0, ms(base) + 180_000, ms(base) + 180_000)
        ]


async def test_the_person_forgotten_whole_in_one_delete(any_store: SqlStore) -> None:
    """/forget with everything still there (the cascade's order is the database's): an
    exposure converted, one already, one not, in three experiments."""
    s = any_store
    await turn(s, 1, T0, milestones=("i_time",))
    await turn(s, 1, T0 + HOUR, exposure("a", "x"), exposure("a", "y", "stage:V"),
               exposure("a", "z", "stage:I"))  # fmt: skip
    await turn(s, 1, T0 + 2 * HOUR, stages=("V",))
    await turn(s, 2, T0, exposure("a", "x"), exposure("b", "y", "stage:V"))
    await check(s)
    assert (await experiment_tallies(s.fetch_all, "y")).arms == (
        ArmTally("a", 1, 1, 0),
        ArmTally("b", 1, 0, 0),
    )
    await s.forget(1)
    await check(s)
    assert await tallied_names(s.fetch_all) == ["x", "y"]
    assert (await experiment_tallies(s.fetch_all, "x")).arms == (ArmTally("a", 1, 0, 0),)


async def test_a_random_history_on_both_stores(any_store: SqlStore) -> None:
    """Sixteen people over weeks (so many cohort days): exposures to two experiments whose
    outcome may change, milestones and stages (some in the exposure's turn), /forget,
    and now and then a milestone or an exposure deleted alone. Checked after each step."""
    s, rng = any_store, random.Random(18)
    now, known, gone = T0, set[int](), set[int]()
    outcomes = [OUTCOME, "milestone:other", "stage:V", "stage:I"]
    for _ in range(220):
        now += timedelta(minutes=rng.choice([0, 1, 30, 300, 1440, 3000]),
                         microseconds=rng.randrange(10**6))  # fmt: skip
        uid = rng.randrange(1, 17)
        if uid in gone:
            continue
        kind = rng.choice(["expose"] * 4 + ["reach"] * 3 + ["both", "forget", "unreach"])
        if uid not in known:
            kind = rng.choice(["expose", "reach", "both"])
        if kind == "forget":
            await s.forget(uid)
            gone.add(uid)
        elif kind == "unreach":
            table = rng.choice(["milestones", "stages_completed", "exposures"])
            await s.write((f"DELETE FROM {table} WHERE user_id = ?", [(uid,)]))
        else:
            records = [exposure(rng.choice("abc"), rng.choice(["p", "q"]), rng.choice(outcomes))
                       for _ in range(rng.choice([1, 1, 2]))] if kind != "reach" else []  # fmt: skip
            reach = () if kind == "expose" else tuple(rng.sample(["i_time", "other"], 1))
            stages = () if kind == "expose" else tuple(rng.sample(["V", "I"], rng.randrange(2)))
            await turn(s, uid, now, *records, milestones=reach, stages=stages)
            known.add(uid)
        await check(s)
    kept = await s.fetch_all(
        "SELECT sum(exposed), sum(converted), sum(already) FROM experiment_tallies"
    )
    assert all(int(n) > 0 for n in kept[0]), "the seed played conversions of both kinds"
    assert gone


async def test_people_chatting_through_a_variant(any_store: SqlStore) -> None:
    """The fixture's experiment (tests/fixtures/variants: the outcome is completing stage
    I), played on the chat harness: the turn's exposure events fill the tallies."""
    dialogs = load_dialogs(VARIANTS, LANGS, "welcome", standard_features())
    conversations = Conversations(dialogs, any_store, "fr")
    clock = FakeClock(T0)
    for uid in range(1, 9):
        person = ChatHarness(conversations, Person(uid, "Zoé", "fr"), clock)
        await person.pin("menu_wording", "short" if uid % 2 else "warm")
        await person.send("/start")
        if uid % 2:
            for button in ("M'informer", "Vivre caché", "Convaincu"):
                clock.advance(timedelta(minutes=1))
                await person.press(button)
        clock.advance(DAY / 3)
    await check(any_store)
    counts = await experiment_tallies(any_store.fetch_all, "menu_wording")
    assert counts.arms == (ArmTally("short", 4, 4, 0), ArmTally("warm", 4, 0, 0))
    assert counts.outcomes == ("stage:I",)
    await any_store.forget(1)
    await any_store.forget(2)
    await check(any_store)
    counts = await experiment_tallies(any_store.fetch_all, "menu_wording")
    assert counts.arms == (ArmTally("short", 3, 3, 0), ArmTally("warm", 3, 0, 0))


# -- the migration's backfill ---------------------------------------------------------------
HISTORY_USERS = [(1, T0), (2, T0), (3, T0 + DAY), (4, T0 + DAY)]
HISTORY_EVENTS = [(1, T0, "short"), (1, T0 + HOUR, "long"), (2, T0, "long"),
                  (3, T0 + DAY, "short"), (4, T0 + DAY, "short")]  # fmt: skip
HISTORY_MILESTONES = [(1, T0 + 2 * HOUR), (2, T0 - HOUR), (3, T0 + DAY)]


def _history(execute: Any, mark: str) -> None:
    """A database of the version before the tallies, with people who converted, had the
    outcome already, in the same turn, or never, on two cohort days."""
    for uid, at in HISTORY_USERS:
        execute(f"INSERT INTO users (user_id, lang, created_at, updated_at) VALUES ({mark}, 'fr',"
                f" {mark}, {mark})", (uid, at.isoformat(), at.isoformat()))  # fmt: skip
    for uid, at, arm in HISTORY_EVENTS:
        execute(f"INSERT INTO events (user_id, at, name, data) VALUES ({mark}, {mark},"
                f" 'exposure', {mark})", (uid, at.isoformat(), json.dumps(exposure(arm).data)))  # fmt: skip
    for uid, at in HISTORY_MILESTONES:
        execute(f"INSERT INTO milestones (user_id, milestone, stage, reached_at) VALUES"
                f" ({mark}, 'i_time', 'I', {mark})", (uid, at.isoformat()))  # fmt: skip


async def _backfilled(store: SqlStore) -> None:
    await check(store)
    counts = await experiment_tallies(store.fetch_all, "welcome_wording")
    assert counts.arms == (ArmTally("long", 1, 0, 1), ArmTally("short", 3, 1, 1))
    assert await day_rows(store, "welcome_wording") == [
        (DAY1, "long", OUTCOME, 1, 0, 1, ms(T0), ms(T0)),
        (DAY1, "short", OUTCOME, 1, 1, 0, ms(T0), ms(T0)),
        (DAY2, "short", OUTCOME, 2, 0, 1, ms(T0 + DAY), ms(T0 + DAY)),
    ]
    # and the triggers go on from there
    await turn(store, 4, T0 + 2 * DAY, milestones=("i_time",))
    await store.forget(1)
    await check(store)


async def test_the_sqlite_migration_counts_the_history(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite_at(path, 9)
    _history(db.execute, "?")
    db.commit()
    db.close()
    store = await open_store(path)
    try:
        await _backfilled(store)
    finally:
        await store.close()


async def test_the_postgresql_migration_counts_the_history(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as db:
        postgresql_at(db, 2)
        _history(db.execute, "%s")
        assert db.execute("SELECT count(*) FROM exposures").fetchone() == (4,)
    store = await open_store(pg_url)
    try:
        await _backfilled(store)
    finally:
        await store.close()


async def test_the_page_reads_only_the_tallies(store: SqliteStore) -> None:
    """The console's read touches the tallies' index for the experiment, no person's row:
    its cost follows the cohort days, not the people."""
    plan = " ".join(
        str(r[3]) for r in await store.fetch_all(f"EXPLAIN QUERY PLAN {TALLIES}", ("x",))
    )
    assert "experiment_tallies_by_experiment" in plan
    assert not any(t in plan for t in ("exposures", "milestones", "stages", "users"))

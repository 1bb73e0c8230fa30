"""A/B experiments on a real SQLite file: the `exposures` table kept by its trigger, the
counts per arm (conversions only after the first exposure), /forget, and the report."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app.bootstrap import standard_features
from bot.app.experiment_report import experiment_names, experiment_report, render
from bot.app.startup import Exit, explain
from bot.core.events import Record
from bot.core.state import new_state
from bot.dialogs.load import load_dialogs
from bot.errors import VieError
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore, SqlStore, open_store
from bot.store.experiments import (
    ArmTally,
    ExperimentCounts,
    UnknownExperiment,
    experiment_counts,
)
from bot.store.opening import migrations
from bot.testing import ChatHarness, FakeClock

from .conftest import LANGS, ROOT

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=10)
OUTCOME = "milestone:i_time"
VARIANTS = ROOT / "tests" / "fixtures" / "variants"


def exposure(arm: str, experiment: str = "welcome_wording", outcome: str = OUTCOME) -> Record:
    data = {"experiment": experiment, "arm": arm, "node": "welcome.menu", "outcome": outcome}
    return Record("exposure", data)


async def turn(
    store: SqlStore,
    uid: int,
    at: datetime,
    *records: Record,
    milestones: tuple[str, ...] = (),
    stages: tuple[str, ...] = (),
) -> None:
    """One saved turn of person `uid` at `at`: its events, the milestones and stages it
    reached (saved at `at`, like the turn statement does)."""
    before = await store.load(uid)
    base = before or new_state(uid, "fr", at)
    after = replace(
        base,
        updated_at=at,
        milestones=base.milestones | set(milestones),
        completed=base.completed | set(stages),
    )
    await store.save(before, after, list(records), dict.fromkeys(milestones, "I"))


async def people(store: SqliteStore, first: int, arm: str, exposed: int, converted: int) -> None:
    """`exposed` people of `arm` in one write (the event insert fires the trigger), the
    first `converted` of them reaching the outcome an hour after their exposure."""
    ids = range(first, first + exposed)
    at, later = T0.isoformat(), (T0 + timedelta(hours=1)).isoformat()
    data = json.dumps(exposure(arm).data)
    await store.write(
        ("INSERT INTO users (user_id, lang, created_at, updated_at) VALUES (?, 'fr', ?, ?)",
         [(uid, at, at) for uid in ids]),
        ("INSERT INTO events (user_id, at, name, data) VALUES (?, ?, 'exposure', ?)",
         [(uid, at, data) for uid in ids]),
        ("INSERT INTO milestones (user_id, milestone, stage, reached_at) VALUES (?, 'i_time', 'I', ?)",
         [(uid, later) for uid in ids[:converted]]),
    )  # fmt: skip


async def test_the_trigger_keeps_the_first_exposure(store: SqliteStore) -> None:
    await turn(store, 1, T0, exposure("short"))
    await turn(store, 1, T0 + timedelta(minutes=5), exposure("short"), exposure("long"))
    await turn(store, 2, T0 + timedelta(milliseconds=1500), exposure("long"))
    rows = await store.fetch_all("SELECT * FROM exposures ORDER BY user_id")
    t0 = round(T0.timestamp() * 1000)
    assert rows == [
        ("welcome_wording", 1, "short", OUTCOME, t0),
        ("welcome_wording", 2, "long", OUTCOME, t0 + 1500),
    ]
    # the log keeps every showing: the table, each person's first
    (shown,) = await store.fetch_all("SELECT count(*) FROM events WHERE name = 'exposure'")
    assert shown == (4,)


async def test_an_exposure_event_without_its_keys_does_not_fail_the_turn(
    store: SqliteStore,
) -> None:
    await turn(store, 1, T0, Record("exposure", {"arm": "short"}))
    assert await store.load(1) is not None
    assert await store.fetch_all("SELECT * FROM exposures") == []


async def test_conversions_count_only_after_the_first_exposure(store: SqliteStore) -> None:
    hour = timedelta(hours=1)
    await turn(store, 1, T0, exposure("short"))  # converts an hour later
    await turn(store, 1, T0 + hour, milestones=("i_time",))
    await turn(store, 2, T0, milestones=("i_time",))  # had it before seeing anything
    await turn(store, 2, T0 + hour, exposure("short"))
    await turn(store, 3, T0, exposure("short"), milestones=("i_time",))  # same turn: before
    await turn(store, 4, T0, exposure("short"))  # never converts
    await turn(store, 5, T0, exposure("long"))  # converts, on a later exposure's day
    await turn(store, 5, T0 + hour, exposure("long"))
    await turn(store, 5, T0 + 2 * hour, milestones=("i_time", "other"))
    await turn(store, 6, T0, milestones=("i_time",))  # never exposed: not counted at all
    await turn(store, 7, T0, exposure("long", outcome="stage:I"))  # a stage as outcome
    await turn(store, 7, T0 + timedelta(milliseconds=1), stages=("I",))
    counts = await experiment_counts(store.fetch_all, "welcome_wording")
    assert counts.arms == (ArmTally("long", 2, 2, 0), ArmTally("short", 4, 1, 2))
    assert counts.outcomes == ("milestone:i_time", "stage:I")
    assert (counts.first, counts.last) == (T0, T0 + hour)


async def test_experiments_are_counted_apart(store: SqliteStore) -> None:
    await turn(store, 1, T0, exposure("a", "first"), exposure("x", "second"))
    await turn(store, 2, T0, exposure("b", "second"))
    assert [t.arm for t in (await experiment_counts(store.fetch_all, "second")).arms] == [
        "b",
        "x",
    ]
    assert await experiment_names(Path(store.path)) == ["first", "second"]


async def test_forget_removes_the_person_from_the_experiment(store: SqliteStore) -> None:
    await turn(store, 1, T0, exposure("short", "solo"))
    await turn(store, 2, T0, exposure("short"))
    await turn(store, 3, T0, exposure("long"))
    await turn(store, 3, T0 + timedelta(hours=1), milestones=("i_time",))
    await store.forget(3)
    await store.forget(1)
    counts = await experiment_counts(store.fetch_all, "welcome_wording")
    assert counts.arms == (ArmTally("short", 1, 0, 0),)
    assert await store.fetch_all("SELECT * FROM exposures WHERE user_id IN (1, 3)") == []
    assert await experiment_names(Path(store.path)) == ["welcome_wording"]


async def test_the_report_of_the_hand_computed_example(store: SqliteStore) -> None:
    """The figures of tests/test_abtest.py, read from a real file while the bot holds it."""
    await people(store, 1, "long", 1000, 100)
    await people(store, 5001, "short", 1000, 130)
    text = await experiment_report(
        Path(store.path), "welcome_wording", NOW, {"long": 50, "short": 50}
    )
    lines = text.splitlines()
    assert lines[0] == "Experiment welcome_wording, as of 2026-03-11 12:00 UTC"
    assert lines[1] == "first exposure 2026-03-01 (10 days ago), latest 2026-03-01"
    assert lines[2] == "outcome: reaching milestone i_time, after the first exposure"
    table = lines[4:7]
    assert table[0].split() == ["arm", "weight", "exposed", "converted", "rate", "95", "%", "CI"]
    assert table[1].split() == ["long", "*", "50", "%", "1000", "100", "10.0", "%", "8.3", "%",
                                "–", "12.0", "%"]  # fmt: skip
    assert table[2].split() == ["short", "50", "%", "1000", "130", "13.0", "%", "11.1", "%",
                                "–", "15.2", "%"]  # fmt: skip
    assert "* control: long" in lines
    assert (
        "short vs long: +3.0 pts (95 % CI +0.2 pts to +5.8 pts): short converts more, p = 0.035"
        in lines
    )
    assert "split check: as the weights expect (chi-square p = 1.000)" in lines
    assert lines[-1].startswith("Fix the number of people per arm before starting")
    assert "WARNING" not in text and "weights unknown" not in text


async def test_no_difference_and_a_mismatched_split(store: SqliteStore) -> None:
    await people(store, 1, "long", 500, 50)
    await people(store, 1001, "short", 400, 41)
    text = await experiment_report(Path(store.path), "welcome_wording", NOW)
    assert "short vs long: +0.2 pts" in text and "no clear difference yet (p = 0.90" in text
    assert "weights unknown: equal weights assumed for the split check" in text
    assert "WARNING: sample ratio mismatch: the arms got 500 / 400 people" in text
    assert "expect 450 / 450 (chi-square p < 0.001): a split this uneven" in text  # p = 0.00085
    assert "do not trust the comparison until the cause is found" in text


async def test_small_groups_are_shown_as_fewer_than_five(store: SqliteStore) -> None:
    await people(store, 1, "long", 40, 12)
    await people(store, 101, "short", 3, 1)
    await people(store, 201, "third", 30, 2)
    text = await experiment_report(
        Path(store.path), "welcome_wording", NOW, {"long": 10, "short": 1, "third": 8}
    )
    rows = {line.split()[0]: line.split() for line in text.splitlines()[4:8]}
    assert rows["short"] == ["short", "5", "%", "<", "5", "—", "—", "—"]
    assert rows["third"] == ["third", "42", "%", "30", "<", "5", "—", "—"]
    assert "short vs long: not yet, short has fewer than 5 people" in text
    assert "third vs long: not yet, third has fewer than 5 conversions" in text
    assert "split check: too few people yet" in text  # short expects 3.8: cannot judge
    body = text.splitlines()[:-1]  # the last line is the advice about p < 0.05
    assert not any("p =" in line or "p <" in line for line in body)  # no test from hidden


async def test_a_hidden_control_means_no_comparison(store: SqliteStore) -> None:
    await people(store, 1, "long", 4, 0)
    await people(store, 101, "short", 300, 30)
    text = await experiment_report(Path(store.path), "welcome_wording", NOW)
    assert "no comparison yet: the control long has fewer than 5 people" in text
    # the split is checked all the same, without the hidden count or the p-value
    assert (
        "WARNING: sample ratio mismatch: the arms got < 5 / 300 people where the weights "
        "expect 152 / 152: a split this uneven" in text
    )


async def test_an_unknown_experiment_names_the_ones_that_exist(store: SqliteStore) -> None:
    with pytest.raises(UnknownExperiment, match=r"'nope'.*no experiment has any exposure yet"):
        await experiment_report(Path(store.path), "nope", NOW)
    await turn(store, 1, T0, exposure("a", "first"), exposure("x", "second"))
    with pytest.raises(VieError) as caught:
        await experiment_report(Path(store.path), "nope", NOW)
    assert str(caught.value) == (
        "no one has seen experiment 'nope' yet; experiments with exposures: first, second"
    )
    assert explain(caught.value) == (Exit.CONFIG, str(caught.value))


async def test_a_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(VieError, match="no such database"):
        await experiment_names(tmp_path / "none.db")


def test_the_report_text_of_given_counts() -> None:
    """Arms in the dialogs' order (the first is the control), an arm no one saw yet, an
    arm since removed from the dialogs, a changed outcome, several comparisons."""
    counts = ExperimentCounts(
        "exp",
        (ArmTally("a", 1000, 100, 0), ArmTally("old", 1000, 160, 7), ArmTally("z", 1000, 130, 0)),
        ("milestone:m", "stage:E"),
        T0,
        T0 + timedelta(days=2),
    )
    text = render(counts, NOW, {"z": 1, "a": 1, "new": 1})
    lines = text.splitlines()
    assert lines[2].startswith("outcome changed during the experiment: reaching milestone m; ")
    assert [line.split()[0] for line in lines[5:10]] == ["arm", "z", "a", "new", "old"]
    assert "* control: z" in lines
    assert "weights unknown" in text  # `old` has none: equal weights assumed
    assert "new vs z: not yet, new has no one exposed" in text
    assert "a vs z: -3.0 pts" in text and "a converts less" not in text  # p = 0.036 > 0.025
    assert "old vs z: +3.0 pts" in text
    assert "(2 arms against the control: each needs p < 0.025 (0.05 / 2)" in text
    assert "7 people had reached the outcome before their first exposure" in text
    single = render(replace(counts, arms=counts.arms[:1]), NOW)
    assert "a single arm: nothing to compare it with" in single
    assert "split check" not in single


async def test_exposures_already_logged_are_filled_by_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    for version, sql in migrations():
        if version < 7:
            db.executescript(f"{sql}\nPRAGMA user_version = {version};")
    at = T0.isoformat()
    db.execute("INSERT INTO users (user_id, lang, created_at, updated_at) VALUES (1, 'fr', ?, ?)",
               (at, at))  # fmt: skip
    for data in [json.dumps(exposure("b").data), json.dumps(exposure("a").data), "not json"]:
        db.execute("INSERT INTO events (user_id, at, name, data) VALUES (1, ?, 'exposure', ?)",
                   (at, data))  # fmt: skip
    db.commit()
    db.close()
    store = await open_store(path)
    try:
        rows = await store.fetch_all("SELECT user_id, arm FROM exposures")
    finally:
        await store.close()
    assert rows == [(1, "b")]  # the earliest event wins


async def test_people_chatting_through_a_variant_are_counted(store: SqliteStore) -> None:
    """End to end on the fixture's experiment (tests/fixtures/variants: the menu's two
    wordings, the outcome completing stage I): the turn's exposure events fill the table,
    and the dialogs give the weights and the control (their first arm)."""
    dialogs = load_dialogs(VARIANTS, LANGS, "welcome", standard_features())
    conversations = Conversations(dialogs, store, "fr")
    clock = FakeClock(T0)
    for uid in range(1, 21):
        person = ChatHarness(conversations, Person(uid, "Zoé", "fr"), clock)
        await person.pin("menu_wording", "short" if uid % 2 else "warm")
        await person.send("/start")
        if uid % 2:  # the short wording's readers all go on to complete stage I
            for button in ("M'informer", "Vivre caché", "Convaincu"):
                clock.advance(timedelta(minutes=1))
                await person.press(button)
    counts = await experiment_counts(store.fetch_all, "menu_wording")
    assert counts.arms == (ArmTally("short", 10, 10, 0), ArmTally("warm", 10, 0, 0))
    assert counts.outcomes == ("stage:I",)
    text = await experiment_report(Path(store.path), "menu_wording", NOW, dialogs=dialogs)
    assert "* control: warm" in text and "weights unknown" not in text
    assert "outcome: completing stage I, after the first exposure" in text
    assert "short vs warm: +100.0 pts" in text and "short converts more, p < 0.001" in text
    with pytest.raises(UnknownExperiment, match="in the dialogs: menu_wording"):
        await experiment_report(Path(store.path), "nope", NOW, dialogs=dialogs)


def test_an_arm_stopped_during_the_experiment() -> None:
    """Weight 0 now (shown to nobody new) but people saw it: the split cannot be judged
    against today's weights; the comparison still stands."""
    counts = ExperimentCounts(
        "exp", (ArmTally("a", 500, 50, 0), ArmTally("b", 300, 30, 0)), ("stage:V",), T0, T0
    )
    text = render(counts, NOW, {"a": 1, "b": 0})
    assert "split check: not possible, b has weight 0 now but people saw it" in text
    assert "WARNING" not in text
    assert "b vs a: +0.0 pts" in text and "no clear difference yet (p = 1.000)" in text


async def test_an_experiment_in_the_dialogs_that_no_one_has_seen(store: SqliteStore) -> None:
    dialogs = load_dialogs(VARIANTS, LANGS, "welcome", standard_features())
    with pytest.raises(UnknownExperiment) as caught:
        await experiment_report(Path(store.path), "menu_wording", NOW, dialogs=dialogs)
    assert "it is in the dialogs, at welcome.menu: wait for people to reach it" in str(caught.value)

"""The funnel (`bot.store.funnel`, migration 0006): figures on a known history played
through the harness, the trigger-kept counters against a per-person recount after a
seeded random history and after the migration's backfill, privacy ("< 5", names only
when public, /forget), and the splits."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from bot.app.stats_text import funnel_table
from bot.core.dialogset import DialogSet
from bot.core.events import Record
from bot.core.state import new_state
from bot.features.advocates.effects import CreditReferral
from bot.features.advocates.state import ADVOCACY
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore, open_store
from bot.store.funnel import Funnel, Span, StatsError, read_funnel
from bot.store.funnel_sql import EDGES_HOURS
from bot.testing import ChatHarness, FakeClock

from .conftest import HarnessFactory, sqlite_at
from .test_advocates import invite, join

DAY = timedelta(days=1)
MONTH = timedelta(days=30)


async def funnel(store: SqliteStore, now: datetime, by: str | None = None) -> Funnel:
    return await read_funnel(store.fetch_all, now, MONTH, by)


async def known_history(make_harness: HarnessFactory) -> dict[str, ChatHarness]:
    """Six people on the mini dialogs, from Monday 5 January 2026, 10:00 UTC:
    Anne (fr) goes to the end of Informer at once (i_hidden, i_done, stage I in the same
    minute) and invites Fanny (fr), who stays at the menu; Bruno (fr) stops at the intro,
    gets the reminder on the 7th at 10:00, comes back at 11:00 and reaches i_hidden;
    Chloé (en) stops at the intro and ignores both reminders (7th and 13th); Denis (fr)
    switches reminders off at the menu; Emma (en) says goodbye. The clock then stands
    on Sunday 25 January: everyone went quiet (none finished E, none acted since the
    18th)."""
    people = {}
    for uid, name, lang in ((1, "Anne", "fr"), (2, "Bruno", "fr"), (3, "Chloé", "en"),
                            (4, "Denis", "fr"), (5, "Emma", "en")):  # fmt: skip
        people[name] = await make_harness(user_id=uid, name=name, lang=lang)
        await people[name].send("/start")
    anne, bruno, chloe = people["Anne"], people["Bruno"], people["Chloé"]
    for step in ("M'informer", "Vivre caché", "Convaincu"):
        await anne.press(step)
    await bruno.press("M'informer")
    await chloe.press("Inform me")
    await people["Denis"].send("/stop")
    await people["Emma"].press("Goodbye")
    people["Fanny"] = await make_harness(user_id=6, name="Fanny", lang="fr")
    await join(people["Fanny"], await invite(anne))
    (nudge,) = await bruno.advance(2 * DAY + timedelta(hours=1))
    assert nudge.text.startswith("On en reparle") and bruno.now().day == 7
    await bruno.press("On reprend")  # an hour after the reminder: a return
    await bruno.press("Vivre caché")
    await chloe.advance(18 * DAY - timedelta(hours=1))
    assert [s.text for s in chloe.others.get(3, [])] == [] and len(chloe.transcript) > 0
    return people


async def test_the_figures_of_a_known_history(
    make_harness: HarnessFactory, store: SqliteStore
) -> None:
    people = await known_history(make_harness)
    now = people["Anne"].now()
    assert now == datetime.fromisoformat("2026-01-25T10:00:00+00:00")
    f = await funnel(store, now)
    assert (f.first_day, f.last_day, f.quiet_after_days) == (date(2025, 12, 27), now.date(), 7)
    g = f.total
    assert (g.kind, g.started, g.hidden) == ("all", 6, False)
    assert g.milestones == (("i_hidden", 2), ("i_done", 1)), "Anne and Bruno; Anne"
    assert g.stages == (("V", 0), ("I", 1), ("E", 0))
    # everyone went quiet: last own actions on the 5th (5 people) and the 7th (Bruno)
    assert (g.quiet, g.quiet_days) == (6, 0)
    assert g.stopped == 1 and g.erased == 0
    assert (g.reminders, g.came_back) == (3, 1), "Bruno's one and Chloé's two; Bruno came back"
    assert g.to_stage == (("V", None), ("I", Span(0, 1)), ("E", None)), "Anne: I within the hour"
    assert g.between == (("V>I", None), ("I>E", None))
    assert f.drop_off == (
        ("welcome.menu", 2),  # Denis and Fanny
        ("informer.done", 1),
        ("informer.hidden", 1),
        ("informer.intro", 1),
        ("welcome.bye", 1),
    )
    table = funnel_table(f)
    assert "started" in table and "< 5" not in table
    assert max(map(len, table.splitlines())) <= 60, "fits a phone"
    assert "Anne" not in table and "Bruno" not in table, "nobody named"


async def test_a_quiet_person_is_one_without_an_own_action_for_quiet_after(
    make_harness: HarnessFactory, store: SqliteStore
) -> None:
    people = await known_history(make_harness)
    now = people["Anne"].now()
    # with 19 days, only Bruno's last action (the 7th) is 18 days old: not quiet yet
    f = await read_funnel(store.fetch_all, now, MONTH, quiet_after=timedelta(days=19))
    assert (f.total.quiet, f.total.quiet_days) == (5, 0)
    assert dict(f.drop_off).get("informer.hidden") is None
    f = await read_funnel(store.fetch_all, now, MONTH, quiet_after=timedelta(days=18))
    assert (f.total.quiet, f.total.quiet_days) == (6, 0)
    # the window: started on or after the 6th (one day back: the 25th only) holds nobody
    nobody = await read_funnel(store.fetch_all, now, DAY)
    assert nobody.total.started == 0 and not nobody.empty
    assert funnel_table(nobody) == "Nobody started from 2026-01-25 to 2026-01-25."


async def test_small_groups_show_less_than_five(
    make_harness: HarnessFactory, store: SqliteStore
) -> None:
    people = await known_history(make_harness)
    now = people["Anne"].now()
    f = await funnel(store, now, "language")
    assert [(g.label, g.started, g.hidden) for g in f.groups] == [("fr", 4, True), ("en", 2, True)]
    table = funnel_table(f)
    fr = next(line for line in table.splitlines() if line.startswith("fr "))
    assert fr.split()[1:] == ["<", "5"] * 7, "every figure of the group"
    assert table.splitlines()[-1] == "< 5: fewer than 5 people, figures not shown"
    by_advocate = await funnel(store, now, "advocate")
    kinds = [(g.kind, g.label, g.started) for g in by_advocate.groups]
    assert kinds == [("others", "1", 1), ("nobody", "", 5)], "Anne's one friend: not alone"
    await store.forget(5)
    await store.forget(4)
    small = (await funnel(store, now)).total
    assert small.hidden and small.started == 4 and small.erased == 2
    assert "< 5" in funnel_table(await funnel(store, now))


async def test_forget_takes_the_person_out_of_every_figure(
    make_harness: HarnessFactory, store: SqliteStore
) -> None:
    people = await known_history(make_harness)
    now = people["Anne"].now()
    before = await funnel(store, now, "advocate")
    bruno = people["Bruno"]
    await bruno.send("/forget")
    await bruno.press(1)
    after = await funnel(store, now, "advocate")
    g = after.total
    assert (g.started, g.erased, g.quiet, g.reminders, g.came_back) == (5, 1, 5, 2, 0)
    assert g.milestones == (("i_done", 1), ("i_hidden", 1))
    assert dict(after.drop_off).get("informer.hidden") is None
    assert [x.started for x in after.groups] == [1, 4] != [x.started for x in before.groups]
    # Anne leaves too: Fanny is now the friend of an advocate who left, and Anne's id is
    # in no counter
    await store.forget(1)
    left = await funnel(store, now, "advocate")
    assert [(x.kind, x.started) for x in left.groups] == [("left", 1), ("nobody", 3)]
    assert await store.fetch_all("SELECT * FROM funnel_advocates WHERE advocate = 1") == []
    assert (left.total.erased, left.total.stages) == (2, (("V", 0), ("I", 0), ("E", 0)))
    await recount(store, Counter({("2026-01-05", "fr"): 2}))


async def test_an_advocate_is_named_only_when_public(store: SqliteStore) -> None:
    t0 = datetime.fromisoformat("2026-03-02T10:00:00+00:00")
    paul = new_state(1, "fr", t0, "Paul")
    await store.save(None, paul, [], {})
    for uid in range(2, 8):  # six friends of Paul's
        friend = ADVOCACY.update(new_state(uid, "fr", t0, f"F{uid}"), referrer=1)
        await store.save(None, friend, [CreditReferral(1, f"p{uid}", (1,))], {})
    f = await funnel(store, t0, "advocate")
    assert [(g.kind, g.label, g.started) for g in f.groups] == [
        ("advocate", "1", 6),
        ("nobody", "", 1),
    ]
    assert "advocate #1" in funnel_table(f) and "Paul" not in funnel_table(f)
    await store.save(paul, ADVOCACY.update(paul, public=True), [], {})
    named = await funnel(store, t0, "advocate")
    assert (named.groups[0].kind, named.groups[0].label) == ("public", "Paul")
    assert "Paul" in funnel_table(named)


async def test_variants_come_from_the_exposures(store: SqliteStore) -> None:
    t0 = datetime.fromisoformat("2026-03-02T10:00:00+00:00")
    data = {"experiment": "hello", "node": "welcome.start", "outcome": "milestone:i_time"}
    for uid in range(1, 13):
        state = new_state(uid, "fr", t0, f"P{uid}")
        arm = "a" if uid <= 7 else "b"
        await store.save(None, state, [Record("exposure", {**data, "arm": arm})], {})
        if uid <= 3:  # three of arm a reach the milestone
            await store.save(state, replace(state, milestones=frozenset({"i_time"})), [], {})
    f = await funnel(store, t0, "variant")
    assert [(g.label, g.started) for g in f.groups] == [("hello/a", 7), ("hello/b", 5)]
    assert f.groups[0].milestones == (("i_time", 3),) and f.groups[1].milestones == (("i_time", 0),)
    assert f.groups[0].erased is None


async def test_unknown_split_and_empty_store(store: SqliteStore) -> None:
    t0 = datetime.fromisoformat("2026-03-02T10:00:00+00:00")
    try:
        await read_funnel(store.fetch_all, t0, MONTH, "weekday")
    except StatsError as exc:
        assert "'weekday'" in str(exc) and "advocate, cohort, language, variant" in str(exc)
    else:
        raise AssertionError("an unknown split must be refused")
    f = await funnel(store, t0)
    assert (
        f.empty
        and funnel_table(f) == "Nobody has talked to the bot yet: there is nothing to count."
    )
    assert funnel_table(f, "fr").startswith("Personne n'a encore parlé au bot")


async def test_cohorts_are_iso_weeks(make_harness: HarnessFactory, store: SqliteStore) -> None:
    people = await known_history(make_harness)
    late = await make_harness(user_id=7, name="Gil", lang="fr")  # Monday 26th: week 5
    late.clock.set(datetime.fromisoformat("2026-01-26T09:00:00+00:00"))
    await late.send("/start")
    f = await funnel(store, late.now(), "cohort")
    assert [(g.label, g.started) for g in f.groups] == [("2026-W02", 6), ("2026-W05", 1)]
    assert people["Anne"].clock is late.clock, "one clock for everyone"


# -- the counters against a recount -----------------------------------------------------------
def bucket(hours: float) -> int:
    """The duration bucket, as the test reads docs/analytics.md (not the migration's CASE)."""
    return sum(hours >= edge for edge in EDGES_HOURS)


async def recount(store: SqliteStore, erased: Counter[tuple[str, str]] | None = None) -> None:
    """Every counter row equals what the base tables say, person by person (Python, not
    the migration's views); `erased`: the erasures by (cohort day, language)."""
    rows = await store.fetch_all(
        "SELECT u.user_id, u.created_at, u.funnel_lang, u.reminders, u.active_at, u.finished,"
        " c.user_id, c.flow, c.node, r.friend_id, r.advocate_id FROM users u"
        " LEFT JOIN conversations c ON c.user_id = u.user_id"
        " LEFT JOIN referrals r ON r.friend_id = u.user_id"
    )
    milestones = await store.fetch_all("SELECT user_id, milestone FROM milestones")
    stages = await store.fetch_all("SELECT user_id, stage, completed_at FROM stages_completed")
    nudges = await store.fetch_all("SELECT user_id FROM events WHERE name = 'nudge_sent'")
    who: dict[int, list[str]] = {}
    counts: Counter[tuple[str, str, str]] = Counter()
    advocates: Counter[tuple[str, int, str]] = Counter()
    nodes: Counter[tuple[str, str]] = Counter()
    spots: Counter[tuple[str, str, str]] = Counter()
    person: dict[int, Counter[str]] = {}
    created: dict[int, datetime] = {}
    for uid, created_at, lang, reminders, active, finished, talks, flow, node, friend, adv in rows:
        day = created_at[:10]
        created[uid] = datetime.fromisoformat(created_at)
        mine = person.setdefault(uid, Counter())
        mine["started"] += 1
        mine["off"] += reminders == 0
        if talks is not None and not finished:  # where they stand, once they have a place
            last = (active or created_at)[:10]
            where = f"{flow}.{node}" if flow and node else "-"
            mine[f"w:{last}"] += 1
            nodes[day, where] += 1
            spots[day, last, where] += 1
        advocate = 0 if friend is None else (adv if adv is not None else -1)
        who[uid] = [day, lang, str(advocate)]
    for uid, name in milestones:
        person[uid][f"m:{name}"] += 1
    completed: dict[int, dict[str, datetime]] = {}
    for uid, stage, at in stages:
        person[uid][f"s:{stage}"] += 1
        done = datetime.fromisoformat(at)
        completed.setdefault(uid, {})[stage] = done
        person[uid][f"h:{stage}:{bucket((done - created[uid]).total_seconds() / 3600)}"] += 1
    for uid, done in completed.items():
        for a, b in (("V", "I"), ("I", "E")):
            if a in done and b in done and done[b] >= done[a]:
                hours = (done[b] - done[a]).total_seconds() / 3600
                person[uid][f"g:{a}>{b}:{bucket(hours)}"] += 1
    for (uid,) in nudges:
        person[uid]["nudges"] += 1
    backs = await store.fetch_all("SELECT user_id, funnel_back FROM users WHERE funnel_back > 0")
    for uid, back in backs:  # what the trigger saw: the return is not in the base tables
        person[uid]["back"] += back
    for uid, metrics in person.items():
        day, lang, advocate = who[uid]
        for metric, n in metrics.items():
            if n:
                counts[day, lang, metric] += n
                counts[day, "", metric] += n
                advocates[day, int(advocate), metric] += n
    for (day, lang), n in (erased or Counter()).items():
        counts[day, lang, "erased"] += n
        counts[day, "", "erased"] += n

    async def table(sql: str) -> Counter[tuple[object, ...]]:
        return Counter({tuple(r[:-1]): r[-1] for r in await store.fetch_all(sql) if r[-1]})

    assert await table("SELECT day, lang, metric, n FROM funnel_counts") == counts
    assert await table("SELECT day, advocate, metric, n FROM funnel_advocates") == advocates
    assert await table("SELECT day, node, n FROM funnel_nodes") == nodes
    assert await table("SELECT day, last_day, node, n FROM funnel_spots") == spots


async def test_the_counters_agree_with_a_recount_after_a_random_history(
    store: SqliteStore, mini: DialogSet
) -> None:
    rng = random.Random(15)
    clock = FakeClock()
    conversations = Conversations(mini, store, "fr")
    people: dict[int, ChatHarness] = {}
    erased: Counter[tuple[str, str]] = Counter()
    payloads: list[str] = []
    for step in range(600):
        roll = rng.random()
        if roll < 0.1 or len(people) < 3:
            uid = 100 + step
            h = ChatHarness(conversations, Person(uid, f"P{uid}", rng.choice(("fr", "en"))), clock)
            people[uid] = h
            invited = payloads and rng.random() < 0.5
            await h.send(f"/start {rng.choice(payloads)}" if invited else "/start")
            continue
        uid = rng.choice(list(people))
        h = people[uid]
        if roll < 0.6 and h.keyboard:
            await h.press(rng.randrange(1, len(h.keyboard) + 1))
        elif roll < 0.66:
            await h.send(rng.choice(("/stop", "/reminders", "/restart", "info", "bonjour")))
        elif roll < 0.7:
            await h.send("/invite")
            payloads.append(h.last.text.split("start=")[-1].split()[0][:22])
        elif roll < 0.715:
            (row,) = await store.fetch_all(
                "SELECT date(created_at), funnel_lang FROM users WHERE user_id = ?", (uid,)
            )
            erased[row[0], row[1]] += 1
            await store.forget(uid)
            del people[uid]
        else:
            await h.advance(timedelta(hours=rng.choice((1, 5, 20, 47, 49, 80))))
            if h.keyboard and rng.random() < 0.7:  # often an answer to a reminder just sent
                await h.press(1)
    await recount(store, erased)
    year = timedelta(days=365)
    f = await read_funnel(store.fetch_all, clock.now(), year, "advocate")
    g = f.total
    assert g.started == len(people) and g.erased == sum(erased.values())
    # what this seed played: reminders, returns, stops, referrals (one advocate left)
    assert [g.reminders, g.came_back, g.stopped, g.erased] == [74, 6, 6, 7]
    assert [n for _, n in g.stages] == [0, 18, 0]
    assert [(x.kind, x.started) for x in f.groups] == [("others", 2), ("left", 3), ("nobody", 52)]
    assert sum(x.started for x in f.groups) == g.started
    # the person-by-person path (the view `--by variant` reads) agrees with the counters
    by_language = await read_funnel(store.fetch_all, clock.now(), year, "language")
    assert sum(x.started for x in by_language.groups) == g.started


async def test_the_migration_counts_the_people_already_there(tmp_path: Path) -> None:
    """A database of version 5 with history: opening it runs 0006, whose backfill counts
    everyone (the language they have now stands for the one they started with)."""
    path = tmp_path / "old.db"
    db = sqlite_at(path, 5)
    day = "2026-01-05T10:00:00+00:00"
    db.executemany(
        "INSERT INTO users (user_id, lang, reminders, created_at, updated_at, active_at, finished)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(1, "fr", 1, day, day, "2026-01-06T10:00:00+00:00", 0), (2, "en", 0, day, day, day, 1),
         (3, "fr", 1, day, day, None, 0)],
    )  # fmt: skip
    db.executemany(
        "INSERT INTO conversations (user_id, flow, node) VALUES (?, ?, ?)",
        [(1, "informer", "intro"), (2, "eduquer", "done"), (3, "welcome", "menu")],
    )
    db.execute("INSERT INTO referrals VALUES (3, 1, 'p', '[1]', 0)")
    db.executemany(
        "INSERT INTO stages_completed VALUES (?, ?, ?)",
        [(2, "V", "2026-01-05T12:30:00+00:00"), (2, "I", "2026-01-07T12:30:00+00:00"),
         (2, "E", "2026-01-07T12:00:00+00:00")],
    )  # fmt: skip
    db.execute("INSERT INTO milestones VALUES (2, 'e_device', 'E', ?)", (day,))
    db.execute("INSERT INTO events (user_id, at, name) VALUES (1, ?, 'nudge_sent')", (day,))
    db.commit()
    db.close()
    store = await open_store(path)
    try:
        await recount(store)
        f = await funnel(store, datetime.fromisoformat("2026-01-25T10:00:00+00:00"), "advocate")
        g = f.total
        assert (g.started, g.stopped, g.reminders, g.quiet, g.quiet_days) == (3, 1, 1, 2, 0)
        # V after 2.5 h, I after 50.5 h, E after 50 h; V to I 48 h; E before I: no I>E
        assert g.to_stage == (("V", Span(1, 3)), ("I", Span(48, 72)), ("E", Span(48, 72)))
        assert g.between == (("V>I", Span(48, 72)), ("I>E", None))
        assert [(x.kind, x.started) for x in f.groups] == [("others", 1), ("nobody", 2)]
    finally:
        await store.close()

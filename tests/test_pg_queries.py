"""The store's query modules on PostgreSQL give what they give on SQLite: the same
history is played on a SQLite file and on a PostgreSQL database, and every public read
of queues, advocates, broadcasts, experiments, funnel, reach and versions is compared.

The server: the run's throwaway PostgreSQL (tests/conftest.py `pg_url`), a new database
for each test.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.dialogset import DialogSet
from bot.core.events import Document, Record, Send
from bot.core.state import UserState, new_state
from bot.features.advocates.effects import CreateInvite, CreditReferral, Notify, RevokeInvite
from bot.features.advocates.records import Invitation
from bot.features.advocates.state import ADVOCACY
from bot.runtime.conversation import Conversations, Person
from bot.store.experiments import UnknownExperiment, experiment_counts, experiment_names
from bot.store.funnel import BY, read_funnel
from bot.store.opening import SqlStore, open_sqlite, open_store
from bot.store.queues import Outgoing, Queued
from bot.store.reach import read_reach
from bot.testing import ChatHarness, FakeClock

from .test_funnel import known_history

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@dataclass
class Pair:
    sqlite: SqlStore
    pg: SqlStore
    sqlite_path: Path
    pg_url: str

    async def both(self, play: Callable[[SqlStore], Awaitable[Any]]) -> tuple[Any, Any]:
        """What `play` returns on each store (SQLite first)."""
        return await play(self.sqlite), await play(self.pg)

    async def same(self, play: Callable[[SqlStore], Awaitable[list[Any]]]) -> list[Any]:
        """Play on both; each step's result must be the same."""
        on_sqlite, on_pg = await self.both(play)
        assert len(on_sqlite) == len(on_pg)
        for step, (lite, pg) in enumerate(zip(on_sqlite, on_pg, strict=True)):
            assert lite == pg, f"step {step}: SQLite {lite!r} != PostgreSQL {pg!r}"
        return list(on_sqlite)


@pytest.fixture
async def pair(tmp_path: Path, pg_url: str) -> AsyncIterator[Pair]:
    pg_database = pg_url
    lite = await open_sqlite(tmp_path / "vie.db")
    pg = await open_store(pg_database)
    assert (lite.dialect, pg.dialect) == ("sqlite", "postgresql")
    try:
        yield Pair(lite, pg, tmp_path / "vie.db", pg_database)
    finally:
        await lite.close()
        await pg.close()


def harnesses(store: SqlStore, dialogs: DialogSet) -> Callable[..., Awaitable[ChatHarness]]:
    """As conftest's `make_harness`, on any store."""
    clock = FakeClock()

    async def make(
        dialogs_: DialogSet | None = None, user_id: int = 1, lang: str = "fr", name: str = "Zoé"
    ) -> ChatHarness:
        conversations = Conversations(dialogs_ or dialogs, store, "fr")
        return ChatHarness(conversations, Person(user_id, name, lang), clock)

    return make


async def save(
    store: SqlStore, after: UserState, *effects: Any, stages: dict[str, str] | None = None
) -> UserState:
    await store.save(await store.load(after.user_id), after, list(effects), stages or {})
    return after


# -- the funnel, where people stand, how far they went ------------------------------------
async def test_the_funnel_reach_and_standing_read_the_same(pair: Pair, mini: DialogSet) -> None:
    async def history(store: SqlStore) -> datetime:
        people = await known_history(harnesses(store, mini))
        return people["Anne"].now()

    now, pg_now = await pair.both(history)
    assert now == pg_now

    async def reads(store: SqlStore) -> list[Any]:
        out: list[Any] = []
        for by in (None, *BY):
            for quiet in (timedelta(days=7), timedelta(days=18), timedelta(days=19)):
                out.append(await read_funnel(store.fetch_all, now, timedelta(days=30), by,
                                             quiet_after=quiet))  # fmt: skip
        out.append(await read_funnel(store.fetch_all, now, timedelta(days=1)))
        out.append(await store.versions.standing())
        return out

    first = await pair.same(reads)
    assert first[0].total.started == 6 and first[0].drop_off, "a history worth comparing"
    odd = [("press", "not json"), ("press", '{"node": 7}'), ("fallback", '{"node": ""}'),
           ("meant", "[1]"), ("answer", '{"node": "welcome.menu", "x": [1, {"y": "é"}]}')]  # fmt: skip
    rows = [(3, now.isoformat(), name, data) for name, data in odd]
    sql = "INSERT INTO events (user_id, at, name, data) VALUES (?, ?, ?, ?)"
    await pair.both(lambda store: store.write((sql, rows)))
    lite, pg = await read_reach(pair.sqlite_path), await read_reach(pair.pg_url)
    assert lite == pg and lite.people == 6 and lite.nodes
    assert lite.at("7") == (1, 0), "a node that is a number in the JSON, as its text"
    await pair.both(lambda store: store.forget(2))  # Bruno: out of every counter
    await pair.both(lambda store: store.forget(1))  # Anne: Fanny's advocate left
    await pair.same(reads)
    assert await read_reach(pair.sqlite_path) == await read_reach(pair.pg_url)


# -- the advocate's reads ------------------------------------------------------------------
async def advocates_history(store: SqlStore) -> None:
    """Paul (1) with three invitations (one revoked), six friends (some progressed,
    one with alerts queued), and a friend of a friend."""
    paul = await save(store, new_state(1, "fr", NOW, "Paul"))
    invites = [Invitation("pay-own", "CODE1", 1), Invitation("pay-marie", "CODE2", 1, name="Marie"),
               Invitation("pay-luc", "CODE3", 1, name="Luc")]  # fmt: skip
    paul = await save(store, replace(paul, updated_at=NOW), *map(CreateInvite, invites))
    await save(store, replace(paul, updated_at=NOW + MINUTE), RevokeInvite("pay-luc"))
    for uid in range(2, 8):
        at = NOW + uid * MINUTE
        payload = "pay-marie" if uid in (3, 4) else "pay-own"
        friend = ADVOCACY.update(new_state(uid, "fr", at, f"F{uid}"), referrer=1)
        friend = await save(store, friend, CreditReferral(1, payload, (1,)),
                            Notify(1, "joined", None, at))  # fmt: skip
        if uid % 2 == 0:  # progress: milestones of two stages, one stage completed
            later = at + timedelta(hours=uid)
            done = replace(friend, updated_at=later, milestones=frozenset({"i_time", "v_a"}),
                           completed=frozenset({"I"}), active_at=later)  # fmt: skip
            await save(store, done, Notify(1, "stage", "I", later),
                       stages={"i_time": "I", "v_a": "V"})  # fmt: skip
    two = await store.load(2)
    assert two is not None
    await save(store, replace(two, updated_at=NOW + 19 * MINUTE),
               CreateInvite(Invitation("pay-two", "CODE4", 2)))  # fmt: skip
    grand = ADVOCACY.update(new_state(9, "fr", NOW + 20 * MINUTE, "G9"), referrer=2)
    await save(store, grand, CreditReferral(2, "pay-two", (2, 1)))


async def by_advocate(store: SqlStore) -> list[Any]:
    return [await read_funnel(store.fetch_all, NOW + timedelta(days=1), timedelta(days=30),
                              "advocate")]  # fmt: skip


async def test_the_advocate_reads_are_the_same(pair: Pair) -> None:
    await pair.both(advocates_history)

    async def reads(store: SqlStore) -> list[Any]:
        a = store.advocates
        first = await a.friends_page(1, 2)
        last = first.friends[-1]
        cursor = (round(last.joined_at.timestamp() * 1000), last.user_id)
        second = await a.friends_page(1, 2, 2, after=cursor)
        back = second.friends[0]
        return [
            await a.invitation(payload="pay-marie"),
            await a.invitation(code="CODE3"),
            await a.invitation(payload="nobody's"),
            await a.invitation_by_names("paul", "marie"),
            await a.invitation_by_names("Pierre", "Marie"),
            await a.open_invitation(1, "Marie"),
            await a.open_invitation(1, "Luc"),
            await a.invitations(1),
            await a.invitations(2),
            first,
            second,
            await a.friends_page(1, 2, 3, after=(round(second.friends[-1].joined_at.timestamp()
                                                       * 1000), second.friends[-1].user_id)),
            await a.friends_page(1, 2, 1, before=(round(back.joined_at.timestamp() * 1000),
                                                  back.user_id)),
            await a.friends_page(2, 5),
            await a.helped(1),
            await a.helped(2),
            await a.helped(42),
            await a.pending_alerts(1),
            await a.pending_alerts(1, limit=3),
            await a.pending_alerts(9),
        ]  # fmt: skip

    found = await pair.same(reads)
    split = await pair.same(by_advocate)
    groups = [(g.kind, g.label, g.started) for g in split[0].groups]
    assert groups == [("advocate", "1", 6), ("others", "1", 1), ("nobody", "", 1)]
    paul = await pair.both(lambda store: store.load(1))
    await pair.both(lambda store: save(store, ADVOCACY.update(paul[0], public=True)))
    split = await pair.same(by_advocate)
    assert (split[0].groups[0].kind, split[0].groups[0].label) == ("public", "Paul")
    assert found[9].total == 6 and any(f.reached for f in found[9].friends + found[10].friends)
    assert found[18].more > 0, "alerts beyond the batch"


# -- experiments ---------------------------------------------------------------------------
def exposure(arm: str, experiment: str = "hello", outcome: str = "milestone:i_time") -> Record:
    return Record("exposure", {"experiment": experiment, "arm": arm, "node": "welcome.start",
                               "outcome": outcome})  # fmt: skip


async def experiments_history(store: SqlStore) -> None:
    """Twelve people in arms a and b of `hello`: some convert after their exposure, some
    had reached the outcome before (or in the same turn); a second experiment on a stage,
    exposed at times with a fraction of a millisecond."""
    for uid in range(1, 13):
        at = NOW + uid * MINUTE
        state = new_state(uid, "fr", at, f"P{uid}")
        arm = "a" if uid <= 7 else "b"
        if uid in (5, 9):  # the outcome first, the text after
            state = await save(store, replace(state, milestones=frozenset({"i_time"})),
                               stages={"i_time": "I"})  # fmt: skip
            state = replace(state, updated_at=at + MINUTE)
        state = await save(store, state, exposure(arm))
        if uid in (1, 2, 3, 8):
            later = state.updated_at + timedelta(hours=1) if state.updated_at else at
            await save(store, replace(state, updated_at=later,
                                      milestones=state.milestones | {"i_time"}),
                       stages={"i_time": "I"})  # fmt: skip
    for uid, arm in ((1, "x"), (2, "y"), (3, "y")):
        state = await store.load(uid)
        assert state is not None
        at = NOW + timedelta(days=1, microseconds=1500 * uid)
        state = await save(
            store, replace(state, updated_at=at), exposure(arm, "stage_e", "stage:E")
        )
        if uid != 2:
            await save(store, replace(state, updated_at=at + MINUTE, completed=frozenset({"E"})))


async def test_the_experiment_counts_are_the_same(pair: Pair) -> None:
    await pair.both(experiments_history)

    async def reads(store: SqlStore) -> list[Any]:
        try:
            await experiment_counts(store.fetch_all, "nope")
        except UnknownExperiment as exc:
            unknown = str(exc)
        return [
            await experiment_names(store.fetch_all),
            await experiment_counts(store.fetch_all, "hello"),
            await experiment_counts(store.fetch_all, "stage_e"),
            unknown,
            await read_funnel(store.fetch_all, NOW + timedelta(days=2), timedelta(days=7),
                              "variant", quiet_after=timedelta(days=1)),
        ]  # fmt: skip

    found = await pair.same(reads)
    hello = found[1]
    assert [(t.arm, t.exposures) for t in hello.arms] == [("a", 7), ("b", 5)]
    assert sum(t.conversions for t in hello.arms) == 4 and sum(t.already for t in hello.arms) == 2
    assert [(g.label, g.started) for g in found[4].groups] == [
        ("hello/a", 7), ("hello/b", 5), ("stage_e/x", 1), ("stage_e/y", 2)
    ]  # fmt: skip


# -- the inbox and the outbox --------------------------------------------------------------
async def test_the_queues_read_and_write_the_same(pair: Pair) -> None:
    async def play(store: SqlStore) -> list[Any]:
        await save(store, new_state(1, "fr", NOW, "Zoé"))
        update = json.dumps({"update_id": 10, "message": {"from": {"id": 1}, "text": "é%?"}})
        out: list[Any] = [
            await store.inbox.add([(10, update, 1), (11, "{}", None)], NOW),
            await store.inbox.add([(10, update, 1), (12, "{}", 7), (13, "{}", None)], NOW),
            await store.inbox.waiting(),
            await store.inbox.waiting(after=10, limit=2),
        ]
        await store.inbox.done([11], NOW)
        await store.inbox.set_aside(12, "KeyError", NOW)
        await store.inbox.set_aside(12, "KeyError", NOW + MINUTE)  # already aside: kept
        out += [await store.inbox.waiting(), await store.inbox.poison()]
        document = Document("a.txt", b"\x00\xffbytes", "text/plain")
        rows = [Outgoing.message(1, Send("Bonjour ?", document=document)),
                Outgoing.mark(1, 5, "Oui"), Outgoing(2, "notice", {"text": "groupe"}),
                Outgoing.message(1, Send("encore"))]  # fmt: skip
        await store.outbox.add(rows, NOW)
        queued = await store.outbox.after(0)
        out += [without_ids(queued), await store.outbox.count()]
        out.append(without_ids(await store.outbox.after(queued[1].id, limit=1)))
        await store.outbox.sent([queued[0].id])
        await store.outbox.drop([queued[1].id, queued[2].id], "blocked", NOW)
        await store.outbox.drop([queued[3].id], "too old", NOW)
        dropped = await store.fetch_all(
            "SELECT user_id, at, name, data FROM events WHERE name = 'reply_dropped' ORDER BY id"
        )
        out += [
            [(r[0], r[1], r[2], json.loads(r[3])) for r in dropped],
            await store.outbox.count(),
        ]
        return out

    found = await pair.same(play)
    assert found[:2] == [2, 2]
    assert len(found[-2]) == 2, "the rows of a person in users are logged, not the group's"


def without_ids(rows: list[Queued]) -> list[Queued]:
    return [replace(r, id=0) for r in rows]


# -- /broadcast ----------------------------------------------------------------------------
async def test_a_broadcast_goes_the_same_way(pair: Pair) -> None:
    async def play(store: SqlStore) -> list[Any]:
        for uid in range(1, 7):
            await save(store, new_state(uid, "fr" if uid < 5 else "en", NOW, f"P{uid}"))
        await store.write(("UPDATE users SET reminders = 0 WHERE user_id = ?", [(2,)]))
        await store.set_blocked(3, True)
        b = store.broadcasts
        out: list[Any] = [await b.draft(1), await b.status(), await b.running()]
        await b.save_draft(1, {"fr": "Salut"}, NOW)
        await b.save_draft(1, {"fr": "Salut {{ user.first_name }}", "en": "Hi"}, NOW + MINUTE)
        await b.save_draft(99, {"fr": "nobody"}, NOW)  # not a user: no draft
        out += [await b.draft(1), await b.draft(99), await b.reach()]
        started = await b.start(1, {"fr": "Salut", "en": "Hi"}, "fr", 2.5, NOW)
        job = started.job.id
        out += [started, await b.start(1, {"fr": "Encore"}, "fr", 1, NOW), await b.draft(1)]
        out += [await b.running(), await b.waiting(job, 2)]
        await store.set_blocked(4, True)  # blocked meanwhile: still waiting, unreachable
        waiting = await b.waiting(job, 10)
        out.append(waiting)
        await b.queue(job, [(1, "Salut P1")], [(4, "skipped")], NOW)
        await b.queue(job, [(1, "twice")], [], NOW)  # queued already: nothing
        out += [await b.background(), await b.status()]
        out.append(await b.control("pause", NOW))
        await b.queue(job, [(5, "Hi P5")], [], NOW)  # paused: nothing moves
        out += [await b.control("pause", NOW), await b.running(), await b.finish(job, NOW)]
        out.append(await b.control("resume", NOW))
        await b.queue(job, [(5, "Hi P5"), (6, "Hi P6")], [], NOW)
        rows = [r for r in await store.outbox.after(0) if r.kind == "broadcast"]
        out.append(without_ids(rows))
        await store.outbox.sent([rows[0].id])
        await store.outbox.drop([rows[1].id], "blocked", NOW)
        out += [await b.job(job), await b.finish(job, NOW)]
        await store.outbox.drop([rows[2].id], "refused", NOW)
        out += [await b.finish(job, NOW + MINUTE), await b.status(), await b.background()]
        out += [await b.control("cancel", NOW), await b.job(job + 1)]
        again = await b.start(1, {"fr": "Deux"}, "fr", 1, NOW + MINUTE)
        out += [again, await b.control("cancel", NOW + 2 * MINUTE), await b.status()]
        return out

    found = await pair.same(play)
    assert found[6].result == "started" and found[7].result == "busy"


# -- dialog versions -----------------------------------------------------------------------
async def test_dialog_versions_are_kept_the_same(pair: Pair) -> None:
    async def play(store: SqlStore) -> list[Any]:
        v = store.versions
        files = {"welcome.yaml": "flow: welcome\n% ? é", "b.yaml": "x"}
        out: list[Any] = [await v.history(), await v.files("v1")]
        out += [await v.served("v1", files, "start", NOW),
                await v.served("v1", files, "reload (SIGHUP)", NOW + MINUTE),
                await v.served("v2", {"a.yaml": "y"}, "reload (file change)", NOW + MINUTE),
                await v.served("v1", {"other": "ignored: v1 is kept"}, "rollback", NOW)]  # fmt: skip
        out += [await v.history(), await v.history(limit=1), await v.files("v1"),
                await v.files("v2"), await v.files("v3"), await v.standing()]  # fmt: skip
        return out

    found = await pair.same(play)
    assert found[2:6] == [True, False, True, True]

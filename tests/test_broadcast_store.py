"""/broadcast in the store and the broadcaster: who a job reaches (taken with the job),
exactly once into the outbox, what became of each row (sent, blocked, refused), /forget,
the pace, the outbox's backlog, and a restart that goes on where the job stopped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.core.model import Dialogs, Target
from bot.core.render import Renderer
from bot.core.state import new_state
from bot.features.nudges.state import NUDGES
from bot.runtime.broadcaster import Broadcaster
from bot.store import SqliteStore
from bot.store.queues import Outgoing

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TEXTS = {"fr": "Bonjour {{ user.first_name }}", "en": "Hello {{ user.first_name }}"}
DIALOGS = Dialogs({}, {}, {}, ("fr", "en"), Target("w", "s"), "v", Renderer())


async def people(store: SqliteStore, count: int, start: int = 1, lang: str = "fr") -> None:
    for uid in range(start, start + count):
        await store.save(None, new_state(uid, lang, NOW, f"P{uid}"), (), {})


async def stop_reminders(store: SqliteStore, uid: int) -> None:
    before = await store.load(uid)
    assert before is not None
    after = NUDGES.put(before, replace(NUDGES.of(before), reminders=False))
    await store.save(before, after, (), {})


class Seconds:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def broadcaster(
    store: SqliteStore, seconds: Seconds, per_second: float = 10, **kw: int
) -> Broadcaster:
    return Broadcaster(
        store.broadcasts, lambda: DIALOGS, lambda: None, per_second=per_second,
        clock=lambda: NOW, monotonic=seconds, **kw,
    )  # fmt: skip


async def states(store: SqliteStore) -> dict[int, str]:
    rows = await store.fetch_all("SELECT user_id, state FROM broadcast_recipients")
    return {int(uid): str(state) for uid, state in rows}


async def test_the_reach_and_the_recipients_are_taken_with_the_job(store: SqliteStore) -> None:
    await people(store, 4)
    await people(store, 2, start=10, lang="en")
    await stop_reminders(store, 2)
    await store.set_blocked(3, True)
    reach = await store.broadcasts.reach()
    assert reach.total == 4 and dict(reach.by_language) == {"fr": 2, "en": 2}
    await store.broadcasts.save_draft(1, TEXTS, NOW)
    started = await store.broadcasts.start(1, TEXTS, "fr", 10, NOW)
    assert started.result == "started" and started.job.total == 4
    assert await store.broadcasts.draft(1) is None
    assert await states(store) == dict.fromkeys((1, 4, 10, 11), "waiting")
    await people(store, 1, start=20)  # came after the confirmation: not in this one
    again = await store.broadcasts.start(1, TEXTS, "fr", 10, NOW)
    assert again.result == "busy" and again.job.id == started.job.id


async def test_exactly_once_into_the_outbox_and_what_became_of_each_row(
    store: SqliteStore,
) -> None:
    await people(store, 4)
    job = (await store.broadcasts.start(1, TEXTS, "fr", 10, NOW)).job
    await store.broadcasts.queue(job.id, [(1, "a"), (2, "b"), (3, "c"), (4, "d")], [], NOW)
    await store.broadcasts.queue(job.id, [(1, "again")], [], NOW)  # queued already: nothing
    rows = await store.outbox.after(0)
    assert [(r.chat_id, r.kind, r.body["text"]) for r in rows] == [
        (1, "broadcast", "a"), (2, "broadcast", "b"), (3, "broadcast", "c"),
        (4, "broadcast", "d"),
    ]  # fmt: skip
    assert await store.broadcasts.background() == 4
    assert not await store.broadcasts.finish(job.id, NOW)
    await store.outbox.sent([rows[0].id])
    await store.outbox.drop([rows[1].id], "blocked", NOW)
    await store.outbox.drop([rows[2].id], "refused", NOW)
    await store.outbox.drop([rows[3].id], "expired", NOW)
    assert await states(store) == {1: "sent", 2: "blocked", 3: "refused", 4: "refused"}
    assert await store.broadcasts.finish(job.id, NOW + timedelta(minutes=1))
    status = await store.broadcasts.status()
    assert status is not None and (status.state, status.sent, status.blocked) == ("done", 1, 1)
    assert (status.refused, status.waiting, status.finished) == (2, 0, NOW + timedelta(minutes=1))


async def test_a_reply_dropped_is_nobody_s_broadcast(store: SqliteStore) -> None:
    await people(store, 1)
    job = (await store.broadcasts.start(1, TEXTS, "fr", 10, NOW)).job
    await store.broadcasts.queue(job.id, [(1, "a")], [], NOW)
    await store.outbox.add([Outgoing(1, "reply", {"text": "x", "buttons": []})], NOW)
    reply = (await store.outbox.after(0))[-1]
    await store.outbox.drop([reply.id], "blocked", NOW)
    assert await states(store) == {1: "queued"}


async def test_forget_takes_the_recipient_and_its_row(store: SqliteStore) -> None:
    await people(store, 3)
    job = (await store.broadcasts.start(1, TEXTS, "fr", 10, NOW)).job
    await store.broadcasts.queue(job.id, [(2, "b")], [], NOW)
    await store.forget(2)
    await store.forget(3)
    assert await states(store) == {1: "waiting"}
    assert await store.outbox.after(0) == []
    status = await store.broadcasts.status()
    assert status is not None and status.total == 1


async def test_nothing_moves_while_paused_or_cancelled(store: SqliteStore) -> None:
    await people(store, 3)
    job = (await store.broadcasts.start(1, TEXTS, "fr", 10, NOW)).job
    paused = await store.broadcasts.control("pause", NOW)
    assert paused.result == "done" and paused.job is not None and paused.job.state == "paused"
    await store.broadcasts.queue(job.id, [(1, "a")], [], NOW)
    assert await store.outbox.after(0) == [] and await store.broadcasts.running() is None
    assert (await store.broadcasts.control("pause", NOW)).result == "already"
    assert (await store.broadcasts.control("resume", NOW)).result == "done"
    cancelled = await store.broadcasts.control("cancel", NOW)
    assert cancelled.job is not None and cancelled.job.state == "cancelled"
    assert (await store.broadcasts.control("resume", NOW)).result == "none"
    assert (await store.broadcasts.start(1, TEXTS, "fr", 10, NOW)).result == "started"


async def test_the_pace_the_backlog_and_a_restart(store: SqliteStore) -> None:
    await people(store, 30)
    await people(store, 5, start=100, lang="en")
    await store.broadcasts.start(1, TEXTS, "fr", 10, NOW)
    seconds = Seconds()
    mover = broadcaster(store, seconds, per_second=10, backlog=12)
    assert await mover.step() == 1  # the first look: one look's worth
    for _ in range(9):
        seconds.now += 0.1
        assert await mover.step() == 1
    seconds.now += 5  # idle for a while: no burst beyond one look's worth
    assert await mover.step() == 1
    seconds.now += 0.1
    assert await mover.step() == 1 and await store.broadcasts.background() == 12
    seconds.now += 0.1
    assert await mover.step() == 0, "the outbox holds the backlog: nobody more"
    rows = await store.outbox.after(0)
    await store.outbox.sent([r.id for r in rows])

    restarted = broadcaster(store, seconds, per_second=100)  # a new process: nothing kept
    texts: dict[int, str] = {}
    for _ in range(10):
        seconds.now += 0.1
        await restarted.step()
        rows = await store.outbox.after(0)
        texts.update({r.chat_id: r.body["text"] for r in rows})
        await store.outbox.sent([r.id for r in rows])
    assert set(texts) == set(range(13, 31)) | set(range(100, 105))  # the rest, once each
    assert texts[100] == "Hello P100" and texts[13] == "Bonjour P13"
    status = await store.broadcasts.status()
    assert status is not None and status.state == "done" and status.sent == 35


async def test_who_stopped_or_blocked_meanwhile_is_skipped(store: SqliteStore) -> None:
    await people(store, 3)
    await store.broadcasts.start(1, TEXTS, "fr", 10, NOW)
    await stop_reminders(store, 2)
    await store.set_blocked(3, True)
    seconds = Seconds()
    assert await broadcaster(store, seconds, per_second=30).step() == 1  # 3 looked at
    assert await states(store) == {1: "queued", 2: "skipped", 3: "skipped"}
    [row] = await store.outbox.after(0)
    assert row.body == {"text": "Bonjour P1", "buttons": [], "broadcast": 1}

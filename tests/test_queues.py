"""The inbox and the outbox on a real SQLite file, the inbox processor and the sender
with a transport that fails the way Telegram does (no network)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.events import ButtonView, Send
from bot.runtime.inbox import InboxProcessor, Unreadable
from bot.runtime.sender import Outcome, Sender
from bot.store import SqliteStore, SqlStore
from bot.store.queues import Outgoing, Queued, Waiting, owner_of

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def raw(update_id: int, user_id: int, text: str = "x") -> tuple[int, str, int | None]:
    update = {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": text,
        "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "U"}}}  # fmt: skip
    return update_id, json.dumps(update), owner_of(update)


async def test_inbox_ignores_redeliveries_by_the_insert_itself(any_store: SqlStore) -> None:
    store = any_store
    assert await store.inbox.add([raw(1, 7), raw(2, 7)], NOW) == 2
    assert await store.inbox.add([raw(2, 7), raw(3, 8)], NOW) == 1, "2 is known"
    assert [w.update_id for w in await store.inbox.waiting()] == [1, 2, 3]
    await store.inbox.done([1, 2], NOW)
    assert await store.inbox.add([raw(1, 7)], NOW) == 0, "done ids are still known"
    assert [w.update_id for w in await store.inbox.waiting()] == [3]
    rows = await store.fetch_all("SELECT count(*) FROM inbox WHERE body IS NULL")
    assert rows == [(2,)], "what was written goes once processed"
    assert await store.prune(NOW + timedelta(days=3)) == 2
    assert await store.inbox.add([raw(1, 7)], NOW) == 1, "forgotten after two days"


def test_owner_is_read_from_any_shape() -> None:
    assert owner_of({"update_id": 1, "callback_query": {"id": "q", "from": {"id": 5}}}) == 5
    assert owner_of({"update_id": 1, "poll": {"id": "p", "options": []}}) is None
    assert owner_of({"update_id": 1, "message": {"chat": {"id": -9}}}) == -9
    assert owner_of({"update_id": 1, "message": "odd"}) is None


async def test_processor_keeps_each_persons_order_and_runs_people_in_parallel(
    any_store: SqlStore,
) -> None:
    store = any_store
    log: list[tuple[int | None, int, str]] = []
    running = peak = 0

    async def handle(row: Waiting) -> bool:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        log.append((row.owner, row.update_id, "start"))
        await asyncio.sleep(0.02 - row.update_id * 0.0004)  # earlier ones take longer
        log.append((row.owner, row.update_id, "end"))
        running -= 1
        return False

    await store.inbox.add([raw(i, 1 + i % 4) for i in range(40)], NOW)
    shared = store.locks if store.dialect == "postgresql" else None
    processor = InboxProcessor(store.inbox, handle, clock=lambda: NOW, shared=shared)
    await processor.flush()
    for user in range(1, 5):
        starts = [uid for who, uid, what in log if who == user and what == "start"]
        assert starts == sorted(starts) and len(starts) == 10
        events = [what for who, _, what in log if who == user]
        assert events == ["start", "end"] * 10, "one at a time per person"
    assert peak == 4, "different people run concurrently"
    assert await store.inbox.waiting() == [], "handled without a turn: settled"
    assert processor.lanes.queues == {} and processor.lanes.workers == {}


async def test_an_unreadable_or_failing_update_is_set_aside_alone(any_store: SqlStore) -> None:
    store = any_store
    seen: list[int] = []

    async def handle(row: Waiting) -> bool:
        if row.update_id == 2:
            raise Unreadable("KeyError")
        if row.update_id == 4:
            raise ValueError("a secret text the person wrote")
        seen.append(row.update_id)
        return False

    await store.inbox.add([raw(i, 7) for i in range(1, 6)], NOW)
    await InboxProcessor(store.inbox, handle, clock=lambda: NOW).flush()
    assert seen == [1, 3, 5], "the others of the same person are not held up"
    aside = await store.inbox.poison()
    assert [(uid, error) for uid, error, _, _ in aside] == [(4, "ValueError"), (2, "unreadable")]
    assert await store.inbox.waiting() == []


class FakeTelegram:
    """A transport that records what it carried; scripted to fail like Telegram."""

    def __init__(self) -> None:
        self.delivered: list[tuple[int, str]] = []
        self.down = 0  # the next `down` calls find Telegram unavailable
        self.blocked: set[int] = set()
        self.refuse: set[str] = set()
        self.gate: asyncio.Event | None = None  # when set, calls wait for it

    async def deliver(self, row: Queued) -> Outcome:
        if self.gate is not None:
            await self.gate.wait()
        if self.down > 0:
            self.down -= 1
            return Outcome.UNAVAILABLE
        if row.chat_id in self.blocked:
            return Outcome.BLOCKED
        text = row.body.get("text") or f"mark:{row.body.get('label')}"
        if text in self.refuse:
            return Outcome.REFUSED
        self.delivered.append((row.chat_id, text))
        return Outcome.SENT


async def queue(store: SqlStore, chat_id: int, *texts: str, kind: str = "reply") -> None:
    await store.outbox.add([Outgoing.message(chat_id, Send(t), kind) for t in texts], NOW)


def sender_for(store: SqlStore, telegram: FakeTelegram, **options: object) -> Sender:
    """On PostgreSQL, the sender of several workers (it reads every row at each look)."""
    shared = store.dialect == "postgresql"
    return Sender(
        store.outbox,
        telegram,
        clock=lambda: NOW,
        first_pause=0.001,
        shared=shared,
        **options,  # type: ignore[arg-type]
    )


async def test_each_chat_in_order_and_rows_deleted_once_sent(any_store: SqlStore) -> None:
    store = any_store
    telegram = FakeTelegram()
    await queue(store, 1, "a1", "a2", "a3")
    await queue(store, 2, "b1", "b2")
    await queue(store, 1, "a4")
    sender = sender_for(store, telegram)
    await sender.flush()
    assert [t for c, t in telegram.delivered if c == 1] == ["a1", "a2", "a3", "a4"]
    assert [t for c, t in telegram.delivered if c == 2] == ["b1", "b2"]
    assert await store.outbox.count() == 0
    await sender.flush()
    assert len(telegram.delivered) == 6, "each row once"


async def test_an_outage_holds_every_row_until_telegram_is_back(any_store: SqlStore) -> None:
    store = any_store
    telegram = FakeTelegram()
    telegram.down = 40  # far more failures than any fixed number of retries
    for chat in range(10):
        await queue(store, chat, *(f"{chat}-{i}" for i in range(4)))
    sender = sender_for(store, telegram, longest_pause=0.002)
    await asyncio.wait_for(sender.flush(), 10)
    assert telegram.down == 0 and len(telegram.delivered) == 40
    for chat in range(10):
        assert [t for c, t in telegram.delivered if c == chat] == [f"{chat}-{i}" for i in range(4)]
    assert sender.available and await store.outbox.count() == 0


async def test_only_one_row_probes_during_an_outage(any_store: SqlStore) -> None:
    store = any_store
    telegram = FakeTelegram()
    telegram.down = 5
    calls = 0
    inner = telegram.deliver

    async def counting(row: Queued) -> Outcome:
        nonlocal calls
        calls += 1
        return await inner(row)

    telegram.deliver = counting  # type: ignore[method-assign]
    for chat in range(20):
        await queue(store, chat, "hello")
    await sender_for(store, telegram, longest_pause=0.002).flush()
    assert len(telegram.delivered) == 20
    assert calls <= 20 + 5 + 20, "the others wait instead of hammering"


async def test_old_blocked_and_refused_rows_are_dropped_and_recorded(
    any_store: SqlStore,
) -> None:
    store = any_store
    from bot.core.state import new_state

    for user in (1, 2, 3):
        await store.save(None, new_state(user, "fr", NOW), [], {})
    telegram = FakeTelegram()
    telegram.blocked.add(2)
    telegram.refuse.add("bad")
    await queue(store, 1, "bad", "good")
    await queue(store, 2, "x", "y")
    await store.outbox.add([Outgoing.message(3, Send("late"))], NOW - timedelta(hours=25))
    blocked: list[int] = []

    async def on_blocked(chat: int) -> None:
        blocked.append(chat)

    await sender_for(store, telegram, on_blocked=on_blocked).flush()
    assert telegram.delivered == [(1, "good")], "a refused row does not stop its chat"
    assert blocked == [2] and await store.outbox.count() == 0
    rows = await store.fetch_all(
        "SELECT user_id, data FROM events WHERE name = 'reply_dropped' ORDER BY user_id, id"
    )
    reasons = [(uid, json.loads(data)["reason"]) for uid, data in rows]
    assert reasons == [(1, "refused"), (2, "blocked"), (2, "blocked"), (3, "expired")]


async def test_replies_are_not_queued_behind_reminders(any_store: SqlStore) -> None:
    store = any_store
    telegram = FakeTelegram()
    telegram.gate = asyncio.Event()
    for chat in range(100, 160):
        await queue(store, chat, "reminder", kind="nudge")
    sender = sender_for(store, telegram, background_slots=2)
    await sender.pump()
    await queue(store, 1, "your answer")
    await sender.pump()
    await asyncio.sleep(0)
    telegram.gate.set()
    await sender.flush()
    position = telegram.delivered.index((1, "your answer"))
    assert position <= 2, f"the reply went out {position}th, behind reminders"


async def test_the_mark_of_a_choice_goes_out_with_the_next_step(any_store: SqlStore) -> None:
    store = any_store
    telegram = FakeTelegram()
    started: list[str] = []
    inner = telegram.deliver

    async def slow(row: Queued) -> Outcome:
        started.append(row.kind)
        await asyncio.sleep(0.01)
        return await inner(row)

    telegram.deliver = slow  # type: ignore[method-assign]
    buttons = (ButtonView("Oui", "d"),)
    await store.outbox.add(
        [Outgoing.mark(1, 55, "Oui"), Outgoing.message(1, Send("Suite", buttons))], NOW
    )
    sender = sender_for(store, telegram)
    task = asyncio.create_task(sender.flush())
    await asyncio.sleep(0.005)
    assert started == ["mark", "reply"], "both calls start at once"
    await task
    assert telegram.delivered == [(1, "mark:Oui"), (1, "Suite")]


@pytest.mark.parametrize("kind", ["reply", "nudge"])
async def test_as_send_round_trips(any_store: SqlStore, kind: str) -> None:
    store = any_store
    send = Send("<b>Bonjour</b>", (ButtonView("Go", "x|y"), ButtonView("Site", "", "https://a.b")))
    await store.outbox.add([Outgoing.message(4, send, kind)], NOW)
    (row,) = await store.outbox.after(0)
    assert row.as_send() == send and row.kind == kind and row.created == NOW


async def test_an_update_answered_but_not_settled_is_not_handled_again(
    any_store: SqlStore,
) -> None:
    """The store refuses to mark it done (disk full): it stays in hand, and is settled as
    soon as the store lets us, without being handled (or apologised for) twice."""
    store = any_store
    handled: list[int] = []

    async def handle(row: Waiting) -> bool:
        handled.append(row.update_id)
        return False

    class Refusing:  # the inbox, with a store that cannot write for now
        full = True

        def __getattr__(self, name: str) -> object:
            return getattr(store.inbox, name)

        async def done(self, ids: list[int], now: datetime) -> None:
            if self.full:
                raise OSError("disk full")
            await store.inbox.done(ids, now)

    inbox = Refusing()
    await store.inbox.add([raw(1, 7)], NOW)
    processor = InboxProcessor(inbox, handle, clock=lambda: NOW)  # type: ignore[arg-type]
    await processor.flush()
    await processor.flush()
    assert handled == [1] and [w.update_id for w in await store.inbox.waiting()] == [1]
    inbox.full = False
    await processor.flush()
    assert handled == [1] and await store.inbox.waiting() == []


async def test_a_look_begun_before_an_update_was_answered_does_not_take_it_again(
    store: SqliteStore,
) -> None:
    """A look at the inbox reads an update as waiting, and returns only after its turn
    was stored (with several workers this is common: reads and writes go through
    different connections): the update is not handled a second time."""
    handled: list[int] = []

    async def handle(row: Waiting) -> bool:
        handled.append(row.update_id)
        await asyncio.sleep(0.01)
        return False

    class Slow:  # the inbox, whose second look returns what it read 50 ms before
        looks = 0

        def __getattr__(self, name: str) -> object:
            return getattr(store.inbox, name)

        async def waiting(self, after: int = -1, limit: int = 1000) -> list[Waiting]:
            rows = await store.inbox.waiting(after, limit)
            self.looks += 1
            if self.looks == 2:
                await asyncio.sleep(0.05)
            return rows

    await store.inbox.add([raw(1, 7)], NOW)
    processor = InboxProcessor(Slow(), handle, clock=lambda: NOW)  # type: ignore[arg-type]
    await processor.pump()  # row 1 starts
    await processor.pump()  # reads row 1 as waiting, returns once it is done
    await processor.flush()
    assert handled == [1] and await store.inbox.waiting() == []

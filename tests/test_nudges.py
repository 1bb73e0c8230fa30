"""Follow-up nudges through the harness: a fake clock, a real SQLite file, no sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app.bootstrap import standard_features, with_features
from bot.core.dialogset import DialogSet
from bot.features.nudges.state import NUDGES
from bot.runtime.conversation import Conversations, Person
from bot.store import open_store
from bot.testing import ChatHarness, FakeClock

from .conftest import HarnessFactory

DAY = timedelta(days=1)


async def at_intro(make_harness: HarnessFactory) -> ChatHarness:
    """Zoé (French, so Europe/Paris) reaches the informer intro on Monday 5 Jan, 11:00 Paris."""
    h = await make_harness()
    await h.send("/start")
    await h.press("M'informer")
    return h


async def test_a_nudge_arrives_after_the_delay_with_its_buttons(
    make_harness: HarnessFactory,
) -> None:
    h = await at_intro(make_harness)
    assert await h.advance(2 * DAY - timedelta(minutes=1)) == []
    (nudge,) = await h.advance(timedelta(minutes=1))
    assert nudge.text == "On en reparle, Zoé\u202f?"
    assert [b.label for b in nudge.buttons] == [
        "On reprend",
        "Demain",
        "Pas maintenant",
        "Plus de rappels",
    ]
    (second,) = await h.advance(6 * DAY)  # the second follow-up, 3 d later doubled: ignored once
    assert second.text == "Dernier petit signe."
    assert await h.advance(30 * DAY) == [], "two follow-ups, then silence"


async def test_moving_on_cancels_the_pending_nudge(make_harness: HarnessFactory) -> None:
    h = await at_intro(make_harness)
    await h.press("Retour")
    assert await h.advance(10 * DAY) == []


async def test_quiet_hours_in_the_persons_timezone(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    h.clock.set(datetime(2026, 1, 5, 21, 30, tzinfo=UTC))  # 22:30 in Paris
    await h.send("/start")
    await h.press("M'informer")
    assert await h.advance(2 * DAY + timedelta(hours=10, minutes=29)) == [], "not at night"
    (nudge,) = await h.advance(timedelta(minutes=1))
    assert h.now() == datetime(2026, 1, 8, 8, 0, tzinfo=UTC), "09:00 in Paris"
    assert nudge.text.startswith("On en reparle")


async def test_nudge_buttons(make_harness: HarnessFactory) -> None:
    h = await at_intro(make_harness)
    await h.advance(2 * DAY)
    await h.press("Demain")
    h.expect("je vous le rappelle le 08/01 à 11:00", last=1)
    assert [m.text for m in await h.advance(DAY)] == ["On en reparle, Zoé\u202f?"]
    await h.press("Pas maintenant")
    assert await h.advance(7 * DAY - timedelta(minutes=1)) == []
    assert len(await h.advance(timedelta(minutes=1))) == 1
    await h.press("On reprend")
    h.expect("Qu'est-ce qui vous retient", last=1)
    assert [m.text for m in await h.advance(10 * DAY)] == ["Dernier petit signe."]
    await h.press("Plus de rappels")
    h.expect("Plus de rappels.", last=1)
    assert await h.advance(60 * DAY) == []


async def test_ignored_nudges_back_off_then_go_dormant_until_the_person_writes(
    make_harness: HarnessFactory,
) -> None:
    h = await at_intro(make_harness)
    assert len(await h.advance(2 * DAY)) == 1  # 1st, ignored
    assert await h.advance(6 * DAY - timedelta(minutes=1)) == [], "3 d doubled: 6 d"
    assert len(await h.advance(timedelta(minutes=1))) == 1  # 2nd, ignored
    state = await h.conversations.store.load(1)
    assert state is not None and NUDGES.of(state).ignored_in_a_row == 2
    await h.send("bof")  # the person is back: not ignoring any more
    state = await h.conversations.store.load(1)
    assert state is not None and NUDGES.of(state).ignored_in_a_row == 0
    await h.press("Retour")
    await h.press("M'informer")
    assert len(await h.advance(2 * DAY)) == 1, "no back-off any more"


async def test_dormant_after_three_ignored(tmp_path: Path, mini: DialogSet) -> None:

    store = await open_store(tmp_path / "d.db")
    h = ChatHarness(Conversations(mini, store, "fr"), Person(1, "Zoé", "fr"), FakeClock())
    await h.send("/start")
    await h.press("M'informer")
    state = await store.load(1)
    assert state is not None
    await store.save(state, NUDGES.update(state, ignored_in_a_row=3), [], {})
    assert await h.advance(30 * DAY) == [], "three ignored in a row: dormant"
    await store.close()


async def test_weekly_cap(make_harness: HarnessFactory, mini: DialogSet) -> None:

    from bot.features.nudges.policy import NudgePolicy

    capped = with_features(mini, standard_features(NudgePolicy(weekly_cap=1, backoff=False)))
    h = await make_harness(dialogs=capped)
    await h.send("/start")
    await h.press("M'informer")
    first = await h.advance(2 * DAY)
    assert len(first) == 1
    sent_at = h.now()
    second = await h.advance(3 * DAY)  # due 3 d later, but one per 7 days
    assert second == []
    (late,) = await h.advance(4 * DAY)
    assert h.now() - sent_at >= 7 * DAY and late.text == "Dernier petit signe."


async def test_stop_and_reminders_commands(make_harness: HarnessFactory) -> None:
    h = await at_intro(make_harness)
    await h.send("/progress")
    h.expect("Prochain rappel : 07/01 à 11:00", last=1)
    await h.send("/stop")
    await h.send("/progress")
    h.expect("Aucun rappel prévu.", last=1)
    assert await h.advance(10 * DAY) == []
    await h.send("/reminders")
    h.expect("Les rappels reprennent.", last=1)
    assert len(await h.advance(2 * DAY)) == 1


async def test_timezone_command(make_harness: HarnessFactory) -> None:
    h = await at_intro(make_harness)
    await h.send("/timezone")
    h.expect("Votre fuseau : Europe/Paris", last=1)
    await h.send("/timezone Mars/Olympus")
    h.expect("Je ne trouve pas « Mars/Olympus ». Toujours Europe/Paris.", last=1)
    await h.send("/timezone America/New_York")
    h.expect("Fuseau horaire : America/New_York (New York, 05:00).", last=1)
    await h.send("/progress")
    # due 10:00 UTC, 05:00 in New York: moved out of its quiet hours, to 09:00 there
    h.expect("Prochain rappel : 07/01 à 09:00", last=1)
    await h.press("Retour")
    await h.press("M'informer")  # planned again from 5 Jan 10:00 UTC
    assert await h.advance(2 * DAY) == [], "05:00 in New York is quiet"
    assert len(await h.advance(timedelta(hours=4))) == 1


async def test_forget_removes_the_pending_nudge(make_harness: HarnessFactory) -> None:
    h = await at_intro(make_harness)
    await h.send("/forget")
    await h.press("Oui, effacer")
    assert await h.conversations.store.next_due() is None
    assert await h.advance(10 * DAY) == []


async def test_a_nudge_survives_a_restart_and_arrives_once(tmp_path: Path, mini: DialogSet) -> None:
    clock = FakeClock()
    store = await open_store(tmp_path / "r.db")
    h = ChatHarness(Conversations(mini, store, "fr"), Person(1, "Zoé", "fr"), clock)
    await h.send("/start")
    await h.press("M'informer")
    await store.close()  # the bot stops
    store = await open_store(tmp_path / "r.db")  # and starts again
    h = ChatHarness(Conversations(mini, store, "fr"), Person(1, "Zoé", "fr"), clock)
    assert [m.text for m in await h.advance(2 * DAY)] == ["On en reparle, Zoé\u202f?"]
    await store.close()
    store = await open_store(tmp_path / "r.db")
    h = ChatHarness(Conversations(mini, store, "fr"), Person(1, "Zoé", "fr"), clock)
    assert [m.text for m in await h.advance(timedelta(hours=1))] == [], "not again"
    await store.close()


async def test_after_downtime_overdue_nudges_are_spread_not_burst(
    tmp_path: Path, mini: DialogSet
) -> None:
    clock = FakeClock()
    store = await open_store(tmp_path / "o.db")
    conversations = Conversations(mini, store, "fr")
    for uid in range(1, 21):
        h = ChatHarness(conversations, Person(uid, f"P{uid}", "fr"), clock)
        await h.send("/start")
        await h.press("M'informer")
    from bot.runtime.dispatcher import NudgeDispatcher

    sent: dict[int, datetime] = {}

    async def drain() -> None:
        await dispatcher.drain()
        rows = await store.outbox.after(0)
        sent.update((row.chat_id, clock.now()) for row in rows)
        await store.outbox.sent([row.id for row in rows])

    dispatcher = NudgeDispatcher(conversations, store, clock.now)
    clock.advance(4 * DAY)  # the bot was down; all 20 nudges are two days overdue
    await drain()
    assert sent == {}, "not fired in a burst"
    for _ in range(200):
        clock.advance(timedelta(minutes=1))
        await drain()
    assert len(sent) == 20
    assert len({t.replace(second=0) for t in sent.values()}) > 10, "spread over the hour"
    await store.close()

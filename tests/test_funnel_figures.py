"""The funnel on a known history, driven through the chat harness on the small fixture
(menu → informer.intro → "Vivre caché" (milestone i_hidden) → "Convaincu" (milestone
i_done, stage I completed)), every figure derived by hand below, then checked against a
per-person recount of the same database and after an erasure.

The history, all on the fake clock's first day:
- people 1, 2, 3: to the end of I (i_hidden, i_done, stage I);
- person 4: reaches i_hidden, then stops there;
- person 5: /stop (reminders off) at the menu;
- person 6: /start only, then /forget (erased: counted, but no longer started);
- persons 7 and 8, in English: /start only.
Then ten days pass with nobody acting: 4, 5, 7 and 8 (not finished) have been quiet for
more than 7 days; 1, 2 and 3 finished I, which is not the journey's end in this fixture,
so they count as quiet too: 7 quiet in all.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.dialogset import DialogSet
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore
from bot.store.funnel import read_funnel
from bot.testing import ChatHarness, FakeClock


async def history(store: SqliteStore, mini: DialogSet) -> tuple[FakeClock, Conversations]:
    conversations, clock = Conversations(mini, store, "fr"), FakeClock()

    async def person(user_id: int, lang: str = "fr") -> ChatHarness:
        harness = ChatHarness(conversations, Person(user_id, f"P{user_id}", lang), clock)
        await harness.send("/start")
        return harness

    for user_id in (1, 2, 3, 4):
        harness = await person(user_id)
        await harness.press("M'informer")
        await harness.press("Vivre caché")
        if user_id != 4:
            await harness.press("Convaincu")
    await (await person(5)).send("/stop")
    six = await person(6)
    await six.send("/forget")
    await six.press("Oui, effacer")
    await person(7, "en")
    await person(8, "en")
    return clock, conversations


async def test_the_funnel_of_a_known_history(store: SqliteStore, mini: DialogSet) -> None:
    clock, _ = await history(store, mini)
    clock.advance(timedelta(days=10))
    funnel = await read_funnel(store.fetch_all, clock.now(), timedelta(days=30))
    total = funnel.total
    assert not funnel.empty and not total.hidden
    assert total.started == 7  # 8 started, 6 erased
    assert dict(total.milestones) == {"i_hidden": 4, "i_done": 3}
    assert dict(total.stages).get("I") == 3
    assert dict(total.stages).get("V", 0) == 0 and dict(total.stages).get("E", 0) == 0
    assert total.stopped == 1
    assert total.erased == 1
    assert total.quiet == 7
    dropped = dict(funnel.drop_off)
    assert dropped["informer.hidden"] == 1  # person 4
    assert dropped["informer.done"] == 3  # 1, 2, 3
    (reminders,) = await store.fetch_all("SELECT count(*) FROM events WHERE name = 'nudge_sent'")
    assert total.reminders == reminders[0]


async def test_a_small_group_is_shown_as_fewer_than_five(
    store: SqliteStore, mini: DialogSet
) -> None:
    clock, _ = await history(store, mini)
    funnel = await read_funnel(store.fetch_all, clock.now(), timedelta(days=30), "language")
    by_lang = {g.label: g for g in funnel.groups}
    assert by_lang["en"].started == 2 and by_lang["en"].hidden
    assert by_lang["fr"].started == 5 and not by_lang["fr"].hidden


async def test_forget_takes_the_person_out_of_every_figure(
    store: SqliteStore, mini: DialogSet
) -> None:
    clock, conversations = await history(store, mini)
    before = await read_funnel(store.fetch_all, clock.now(), timedelta(days=30))
    one = ChatHarness(conversations, Person(1, "P1", "fr"), clock)
    await one.send("/forget")
    await one.press("Oui, effacer")
    after = await read_funnel(store.fetch_all, clock.now(), timedelta(days=30))
    assert after.total.started == before.total.started - 1
    assert dict(after.total.milestones) == {"i_hidden": 3, "i_done": 2}
    assert dict(after.total.stages)["I"] == 2
    assert after.total.erased == 2
    (leftover,) = await store.fetch_all("SELECT count(*) FROM funnel_advocates WHERE advocate = 1")
    assert leftover[0] == 0  # their id is in no counter

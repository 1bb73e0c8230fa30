"""Conversations through ChatHarness: engine + render + a real SQLite file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.core.dialogset import DialogSet
from bot.runtime.conversation import Conversations, Person
from bot.store import open_store
from bot.testing import ChatHarness, FakeClock
from bot.testing.harness import HarnessError

from .conftest import HarnessFactory
from .journeys import path_to_complete


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_whole_journey_in_both_languages(
    make_harness: HarnessFactory, bundled: DialogSet, lang: str
) -> None:
    h = await make_harness(dialogs=bundled, lang=lang)
    await h.send("/start")
    assert h.labels, "the welcome offers choices"
    for stage in ("I", "E", "V"):
        for label in path_to_complete(bundled, lang, frozenset({stage})):
            await h.press(label)
        # after each stage, go back to the start of the journey for the next one
        await h.send("/restart")
    state = await h.conversations.store.load(1)
    assert state is not None and state.completed == {"V", "I", "E"}
    await h.send("/progress")
    progress = h.last.text
    words = {"fr": ["Informer", "Viraliser"], "en": ["Inform"]}[lang]
    assert all(w in progress for w in words)


async def test_forget_then_start_is_a_fresh_start(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.send("/start")
    await h.press("M'informer")
    await h.press("Vivre caché")
    await h.send("/forget")
    await h.press("Oui, effacer")
    h.expect("Tout est effacé")
    assert await h.conversations.store.load(1) is None
    await h.send("/start")
    h.expect("Bonjour Zoé", last=2)
    state = await h.conversations.store.load(1)
    assert state is not None and not state.milestones and state.node == "menu"


async def test_stale_button_from_an_old_message(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.send("/start")
    old_menu = h.keyboard
    await h.press("M'informer")
    before = await h.conversations.store.load(1)
    await h.press_data(old_menu[-1].data)  # "Au revoir" from the earlier menu
    h.expect("expiré", last=2)
    after = await h.conversations.store.load(1)
    assert before is not None and after is not None
    assert (after.flow, after.node, after.vars) == (before.flow, before.node, before.vars)
    assert h.labels == ["Vivre caché", "Retour"]


async def test_every_bad_input_gets_an_answer(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.send("/start")
    for do in (
        h.send("qsdfgh"),
        h.send("x" * 4097),
        h.send_unsupported("sticker"),
        h.send_unsupported("photo"),
        h.press_data("forged|data"),
        h.send("/nope"),
    ):
        replies = await do
        assert replies and all(r.text for r in replies)
    state = await h.conversations.store.load(1)
    assert state is not None and state.node == "menu"


async def test_resume_after_restarting_the_bot(tmp_path: Path, mini: DialogSet) -> None:
    path = tmp_path / "vie.db"
    store = await open_store(path)
    h = ChatHarness(Conversations(mini, store, "fr"), Person(3, "Léa", "fr"), FakeClock())
    await h.send("/start")
    await h.press("M'informer")
    await store.close()
    store = await open_store(path)
    h = ChatHarness(Conversations(mini, store, "fr"), Person(3, "Léa", "fr"), FakeClock())
    await h.send("/start")
    h.expect("Content de vous revoir", last=2)
    h.expect("Qu'est-ce qui vous retient", last=1)
    await h.press("Vivre caché")  # the buttons shown before the restart still work
    h.expect("Médiamétrie", last=1)
    state = await store.load(3)
    assert state is not None and state.node == "hidden"
    await store.close()


async def test_mydata_lists_what_is_stored(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.send("/start")
    summary, copy = await h.send("/mydata")
    assert summary.text.startswith("Vos données, Zoé") and "/forget" in summary.text
    assert copy.document is not None and copy.document.name == "vie-coach-my-data.json"
    data = json.loads(copy.document.content)["data"]
    assert data["users"][0]["first_name"] == "Zoé" and data["conversations"][0]["flow"]


async def test_one_persons_events_run_in_order(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.send("/start")
    data = h.find("M'informer").data
    person, conv = h.person, h.conversations
    from bot.core.events import Press

    results = await asyncio.gather(*(conv.handle(person, Press(data), h.now()) for _ in range(5)))
    moved = [r for r in results if r and "retient" in r[-1].text and "expiré" not in r[0].text]
    assert len(moved) == 1, "a double tap moves state once"


async def test_people_do_not_share_state(make_harness: HarnessFactory) -> None:
    a = await make_harness(user_id=1)
    b = await make_harness(user_id=2, lang="en", name="Sam")
    await a.send("/start")
    await b.send("/start")
    await a.press("M'informer")
    b.expect("Where shall we start?", last=1)
    assert b.labels == ["Inform me", "Goodbye"]


async def test_harness_reports_missing_buttons(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.send("/start")
    with pytest.raises(HarnessError):
        await h.press("No such button")
    with pytest.raises(HarnessError):
        await h.press(9)


async def test_forget_leaves_no_trace_in_the_database_nor_its_wal(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    """What the person wrote (kept as 'not understood' for the operators) is overwritten,
    and the WAL is emptied: reading the files' bytes finds nothing of it."""
    h = await make_harness(name="Gertrude-Ypsilanti")
    other = await make_harness(user_id=2, name="Paul")  # shares the pages: they stay in use
    await h.send("/start")
    await other.send("/start")
    for i in range(30):
        await h.send(f"zorglub-quarante-deux numero {i}")
        await other.send(f"blabla numero {i}")
    store = h.conversations.store
    async with store.connection.execute("PRAGMA secure_delete") as cursor:  # type: ignore[attr-defined]
        assert await cursor.fetchone() == (1,)  # set by the store, whatever SQLite's default
    db = Path(store.path)  # type: ignore[attr-defined]
    files = [db, db.with_name(db.name + "-wal")]
    # as SQLite's own checkpoints do over time: the rows are in the database file itself
    await store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[attr-defined]
    assert b"zorglub-quarante-deux" in db.read_bytes()
    await h.send("/forget")
    await h.press("Oui, effacer")
    h.expect("Tout est effacé")
    for f in files:
        if f.exists():
            raw = f.read_bytes()
            assert b"zorglub-quarante-deux" not in raw and b"Gertrude-Ypsilanti" not in raw, f
    assert db.with_name(db.name + "-wal").stat().st_size == 0


async def test_expect_needs_no_french_spaces(make_harness: HarnessFactory) -> None:
    """The renderer puts no-break spaces before `?`; a test may type one, or none."""
    h = await make_harness()
    await h.send("/start")
    h.expect("Par où commencer ?", last=1)
    h.expect("par où commencer?", last=1)
    with pytest.raises(HarnessError):
        h.expect("Par où finir ?", last=1)

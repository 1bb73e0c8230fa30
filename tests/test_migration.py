"""People mid-way survive an edit of the dialogs: a renamed node keeps its people (and
its buttons), a deleted node's people start its part again with a word of explanation, a
changed node's old buttons expire, pending reminders follow or expire; the checker says
who moves where before anything is served."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app.bootstrap import standard_features
from bot.core.dialogset import DialogSet
from bot.dialogs.load import check_directory, load_dialogs
from bot.dialogs.moves import Move, Standing, moves, report
from bot.runtime.conversation import Conversations, Person
from bot.store.sqlite import SqliteStore
from bot.testing import ChatHarness, FakeClock

from .conftest import MINI

DAY = timedelta(days=1)


def folder_copy(tmp_path: Path) -> Path:
    target = tmp_path / "dialogs"
    shutil.copytree(MINI, target)
    return target


def edit(folder: Path, name: str, old: str, new: str, count: int = 1) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == count, f"{old!r} appears {text.count(old)} times in {name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def rename_intro(folder: Path) -> None:
    """informer.intro becomes informer.reasons, and says so."""
    edit(folder, "informer.yaml", "start: intro", "start: reasons")
    edit(
        folder,
        "informer.yaml",
        "  intro:\n    say:",
        "  reasons:\n    renamed_from: intro\n    say:",
    )
    edit(folder, "welcome.yaml", "informer.intro", "informer.reasons", count=3)


def delete_hidden(folder: Path) -> None:
    """informer.hidden is deleted; the button that led there now leads to `done`."""
    text = (folder / "informer.yaml").read_text(encoding="utf-8")
    start, end = text.index("  hidden:\n"), text.index("  done:\n")
    text = text[:start] + text[end:]
    (folder / "informer.yaml").write_text(text.replace("goto: hidden", "goto: done"), "utf-8")


def load(folder: Path) -> DialogSet:
    return load_dialogs(folder, ["fr", "en"], "welcome", standard_features())


async def person(store: SqliteStore, dialogs: DialogSet, clock: FakeClock, uid: int) -> ChatHarness:
    return ChatHarness(Conversations(dialogs, store, "fr"), Person(uid, "Zoé", "fr"), clock)


async def at_intro(tmp_path: Path, store: SqliteStore) -> tuple[Path, ChatHarness]:
    """A copy of the mini dialogs, and Zoé standing at informer.intro (a reminder pending)."""
    folder = folder_copy(tmp_path)
    zoe = await person(store, load(folder), FakeClock(), 1)
    await zoe.send("/start")
    await zoe.press("M'informer")
    return folder, zoe


async def test_a_renamed_node_keeps_its_people_and_its_buttons(
    tmp_path: Path, store: SqliteStore
) -> None:
    folder, zoe = await at_intro(tmp_path, store)
    rename_intro(folder)
    zoe.conversations.swap(load(folder))
    await zoe.press("Vivre caché")  # shown before the rename: it still works
    zoe.expect("Je comprends (hidden)")
    state = await store.load(1)
    assert state is not None and (state.flow, state.node) == ("informer", "hidden")


async def test_the_person_standing_at_a_renamed_node_is_moved_silently(
    tmp_path: Path, store: SqliteStore
) -> None:
    folder, zoe = await at_intro(tmp_path, store)
    rename_intro(folder)
    zoe.conversations.swap(load(folder))
    await zoe.send("/progress")
    assert "a changé" not in zoe.plain(zoe.bot_lines[-1:])
    state = await store.load(1)
    assert state is not None and state.node == "reasons"


async def test_people_at_a_deleted_node_restart_its_part_with_a_kind_word(
    tmp_path: Path, store: SqliteStore
) -> None:
    folder, zoe = await at_intro(tmp_path, store)
    await zoe.press("Vivre caché")
    delete_hidden(folder)
    zoe.conversations.swap(load(folder))
    await zoe.press("Convaincu")  # the deleted node's button
    zoe.expect("La conversation a changé")
    zoe.expect("Qu'est-ce qui vous retient ?")  # the start of the same part, not welcome
    state = await store.load(1)
    assert state is not None and (state.flow, state.node) == ("informer", "intro")
    assert "i_hidden" in state.milestones, "what was reached stays reached"


async def test_the_old_buttons_of_a_changed_node_expire_cleanly(
    tmp_path: Path, store: SqliteStore
) -> None:
    folder, zoe = await at_intro(tmp_path, store)
    edit(folder, "informer.yaml", "Qu'est-ce qui vous retient ?", "Qu'est-ce qui vous freine ?")
    zoe.conversations.swap(load(folder))
    await zoe.press("Vivre caché")
    zoe.expect("expiré")  # the mini dialogs' expired_button message
    zoe.expect("Qu'est-ce qui vous freine ?")
    await zoe.press("Vivre caché")  # the new keyboard works
    zoe.expect("Je comprends")


async def test_a_pending_reminder_follows_a_renamed_node(
    tmp_path: Path, store: SqliteStore
) -> None:
    folder, zoe = await at_intro(tmp_path, store)
    rename_intro(folder)
    edit(folder, "informer.yaml", "On en reparle,", "On en reparle quand vous voulez,")
    zoe.conversations.swap(load(folder))
    sent = await zoe.advance(2 * DAY + timedelta(hours=1))
    assert len(sent) == 1 and "quand vous voulez" in sent[0].text  # the new words
    state = await store.load(1)
    assert state is not None and state.node == "reasons"


async def test_a_pending_reminder_of_a_deleted_node_is_dropped(
    tmp_path: Path, store: SqliteStore
) -> None:
    folder, zoe = await at_intro(tmp_path, store)
    text = (folder / "informer.yaml").read_text(encoding="utf-8")
    start, end = text.index("  intro:\n"), text.index("  hidden:\n")
    text = (text[:start] + text[end:]).replace("start: intro", "start: hidden")
    text = text.replace(" ({{ vars.worry }})", "")  # set by the deleted node's button
    (folder / "informer.yaml").write_text(text, "utf-8")
    edit(folder, "welcome.yaml", "informer.intro", "informer.hidden", count=3)
    zoe.conversations.swap(load(folder))
    assert await zoe.advance(10 * DAY) == []
    assert await store.next_due() is None, "nothing left pending"
    state = await store.load(1)
    assert state is not None and state.node == "intro", "moved only when they come back"
    await zoe.send("coucou")
    zoe.expect("La conversation a changé")
    zoe.expect("Je comprends")  # informer's new start


@pytest.mark.parametrize(
    ("renamed_from", "message"),
    [
        ("hidden", "'informer.hidden' still exists"),
        ("done", "'informer.done' still exists"),
        ("intro", "names the node itself"),
    ],
)
def test_a_wrong_renamed_from_is_refused_with_its_line(
    tmp_path: Path, renamed_from: str, message: str
) -> None:
    folder = folder_copy(tmp_path)
    edit(
        folder,
        "informer.yaml",
        "  intro:\n    say:",
        f"  intro:\n    renamed_from: {renamed_from}\n    say:",
    )
    dialogs, problems = check_directory(folder, ["fr", "en"], "welcome", standard_features())
    assert dialogs is None
    found = [p for p in problems if message in p.message]
    assert found, problems
    assert found[0].file.endswith("informer.yaml") and found[0].line == 6
    assert found[0].node == "informer.intro"


def test_two_nodes_claiming_one_former_place_are_refused(tmp_path: Path) -> None:
    folder = folder_copy(tmp_path)
    edit(
        folder, "informer.yaml", "  hidden:\n    say:", "  hidden:\n    renamed_from: old\n    say:"
    )
    edit(
        folder,
        "informer.yaml",
        "  done:\n    say:",
        "  done:\n    renamed_from: [old, older]\n    say:",
    )
    dialogs, problems = check_directory(folder, ["fr", "en"], "welcome", standard_features())
    assert dialogs is None
    assert any("'informer.old' is claimed by 'informer.hidden' too" in p.message for p in problems)


async def test_the_checker_says_who_moves_where(tmp_path: Path, store: SqliteStore) -> None:
    folder = folder_copy(tmp_path)
    clock = FakeClock()
    dialogs = load(folder)
    for uid in (1, 2, 3):  # three at intro
        h = await person(store, dialogs, clock, uid)
        await h.send("/start")
        await h.press("M'informer")
    for uid in (4, 5):  # two at hidden
        h = await person(store, dialogs, clock, uid)
        await h.send("/start")
        await h.press("M'informer")
        await h.press("Vivre caché")
    h = await person(store, dialogs, clock, 6)  # one at the menu, whose text changes
    await h.send("/start")
    rename_intro(folder)
    delete_hidden(folder)
    edit(folder, "welcome.yaml", "Par où commencer ?", "Par quoi commencer ?")
    found = moves([*await store.versions.standing(), Standing("gone", "x", "", 2)], load(folder))
    assert found == [
        Move("gone.x", 2, "gone_flow", "welcome.start"),
        # the button that led to the deleted node changed too: its old buttons expire
        Move("informer.hidden", 2, "gone", "informer.reasons"),
        Move("informer.intro", 3, "renamed_changed", "informer.reasons"),
        Move("welcome.menu", 1, "changed", "welcome.menu"),
    ]
    lines = report(found[1:])
    assert lines[0] == (
        "3 people at `informer.intro` go to `informer.reasons` (renamed, and changed: the "
        "buttons shown before expire)"
    )
    assert lines[1].startswith("2 people at `informer.hidden` go to `informer.reasons`, the start")
    assert lines[2].startswith("1 person at `welcome.menu` stay there")
    assert report([]) == ["nobody moves: no one stands at a renamed, deleted or changed node"]
    assert "the start of the journey" in report(found[:1])[0]


async def test_a_pure_rename_is_reported_as_one(tmp_path: Path, store: SqliteStore) -> None:
    folder, _ = await at_intro(tmp_path, store)
    rename_intro(folder)
    assert report(moves(await store.versions.standing(), load(folder))) == [
        "1 person at `informer.intro` go to `informer.reasons` (renamed)"
    ]

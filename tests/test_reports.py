"""/stats and /unknown in Telegram: for the operators only (everyone else gets the
ordinary unknown-command answer), a friendly word for a period that cannot be read, the
funnel as a table and as a chart, what was not understood without who wrote it; and the
operators' own command menu, in their chat only, on the real PTB stack."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.app.bootstrap import standard_features
from bot.app.operator_reports import report_handlers
from bot.core.dialogset import DialogSet
from bot.core.render import to_plain
from bot.dialogs.load import load_dialogs
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore
from bot.testing import ChatHarness, FakeClock
from bot.testing.botapi import BotApiEmulator, FakeUser

from .conftest import LANGS, MINI
from .test_end_to_end import live_bot, until

ADMIN = 99
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def dialogs() -> DialogSet:
    return load_dialogs(MINI, LANGS, "welcome", standard_features(admins=(ADMIN,)))


def talk(store: SqliteStore, dialogs: DialogSet) -> tuple[Conversations, FakeClock]:
    conversations = Conversations(dialogs, store, "fr")
    conversations.carry_out.update(report_handlers(store))
    return conversations, FakeClock()


def plain(harness: ChatHarness) -> str:
    return to_plain(harness.last.text).replace("\u202f", " ").replace("\xa0", " ")


async def test_for_anyone_else_the_commands_do_not_exist(
    store: SqliteStore, dialogs: DialogSet
) -> None:
    conversations, clock = talk(store, dialogs)
    someone = ChatHarness(conversations, Person(5, "Jeanne", "fr"), clock)
    await someone.send("/start")
    for command in ("/stats", "/unknown 7d"):
        sends = await someone.send(command)
        assert len(sends) == 1 and sends[0].document is None
        assert "/" + command.split()[0][1:] in to_plain(sends[0].text)
        assert "<pre>" not in sends[0].text
    unknown = await someone.send("/nothing_like_it")
    assert to_plain(unknown[0].text).replace("nothing_like_it", "X") == to_plain(
        (await someone.send("/stats"))[0].text
    ).replace("stats", "X")


async def test_a_period_that_cannot_be_read_is_explained(
    store: SqliteStore, dialogs: DialogSet
) -> None:
    conversations, clock = talk(store, dialogs)
    admin = ChatHarness(conversations, Person(ADMIN, "Odile", "fr"), clock)
    await admin.send("/start")
    await admin.send("/stats bientôt")
    assert plain(admin) == "Période « bientôt » ? Essayez /stats 7d."
    await admin.send("/unknown 400d")  # more than a year
    assert "Essayez /unknown 7d" in plain(admin)


async def test_stats_shows_the_funnel_as_a_table_and_a_chart(
    store: SqliteStore, dialogs: DialogSet
) -> None:
    conversations, clock = talk(store, dialogs)
    admin = ChatHarness(conversations, Person(ADMIN, "Odile", "fr"), clock)
    await admin.send("/start")
    for user_id in range(1, 8):
        await ChatHarness(conversations, Person(user_id, f"P{user_id}", "fr"), clock).send("/start")
    sends = await admin.send("/stats 7")  # "7" alone: days
    table, chart = sends
    assert table.text.startswith("Chiffres 7d") and "<pre>" in table.text
    assert "8" in to_plain(table.text)  # the admin and seven people started
    assert chart.document is not None and chart.document.mime_type == "image/png"
    assert chart.document.content.startswith(PNG)
    assert to_plain(chart.text) == "Graphique 7d."


async def test_stats_over_a_period_nobody_started_in(
    store: SqliteStore, dialogs: DialogSet
) -> None:
    conversations, clock = talk(store, dialogs)
    someone = ChatHarness(conversations, Person(1, "Jeanne", "fr"), clock)
    await someone.send("/start")
    clock.advance(timedelta(days=40))
    admin = ChatHarness(conversations, Person(ADMIN, "Odile", "en"), clock)
    await admin.send("/start")
    clock.advance(timedelta(days=10))
    sends = await admin.send("/stats 1w")
    assert [to_plain(s.text) for s in sends] == ["Nobody in 1w."]


async def test_unknown_shows_the_words_as_data_and_never_who(
    store: SqliteStore, dialogs: DialogSet
) -> None:
    conversations, clock = talk(store, dialogs)
    admin = ChatHarness(conversations, Person(ADMIN, "Odile", "fr"), clock)
    await admin.send("/start")
    assert to_plain((await admin.send("/unknown"))[0].text) == "Rien sur 30d."
    for user_id, name in ((1, "Jeanne"), (2, "Marcel")):
        person = ChatHarness(conversations, Person(user_id, name, "fr"), clock)
        await person.send("/start")
        await person.press(1)  # past the first question, to a node
        await person.send("<b>zorglub</b> & compagnie")
    (sends,) = [await admin.send("/unknown")]
    (report,) = sends
    assert "&lt;b&gt;zorglub&lt;/b&gt; &amp; compagnie" in report.text  # data, not HTML
    assert "Jeanne" not in report.text and "Marcel" not in report.text
    line = next(x for x in to_plain(report.text).splitlines() if "zorglub" in x)
    assert line.split()[0] == "2"  # two people wrote it, counted together


async def test_the_operators_menu_is_theirs_alone(tmp_path: Path, dialogs: DialogSet) -> None:
    emulator = BotApiEmulator()
    odile = FakeUser(ADMIN, "Odile", "fr")
    async with live_bot(emulator, tmp_path / "menu.db", dialogs, admins=[ADMIN]):
        await until(lambda: len(emulator.calls_to("setMyCommands")) >= 6)
        everyone = emulator.commands['{"type": "default"}', "fr"]
        theirs = emulator.commands['{"chat_id": 99, "type": "chat"}', "fr"]
        names = [c["command"] for c in everyone]
        assert not {"stats", "unknown", "reload", "broadcast", "console"} & set(names)
        operators = ["stats", "unknown", "broadcast", "reload", "console"]
        assert [c["command"] for c in theirs] == [*names, *operators]
        emulator.user_message(odile, "/start")
        await until(lambda: bool(emulator.sent_to(ADMIN)))
        emulator.user_message(odile, "/stats")
        await until(lambda: any("photo" in m for m in emulator.sent_to(ADMIN)), 20)
        photo = next(m for m in emulator.sent_to(ADMIN) if "photo" in m)
        assert emulator.photo_of(photo).startswith(PNG)
        assert photo["caption"] == "Graphique 30d."

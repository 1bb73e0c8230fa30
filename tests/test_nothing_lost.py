"""Nothing lost, with the real PTB HTTP stack long polling the served emulator: an update
no one can read, a long Telegram outage, a full disk."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from bot.core.dialogset import DialogSet
from bot.testing.botapi import BotApiEmulator, FakeUser

from .test_end_to_end import live_bot, say, texts, until

ZOE = FakeUser(101, "Zoé", "fr")
SAM = FakeUser(202, "Sam", "en")


async def test_an_unreadable_update_between_two_normal_ones(
    tmp_path: Path, mini: DialogSet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    emulator = BotApiEmulator()
    async with live_bot(emulator, tmp_path / "p.db", mini) as app:
        emulator.user_message(ZOE, "/start")
        # a poll from an older Bot API server (no `allows_revoting`: PTB refuses it) ...
        poll = emulator.push({"poll": {
            "id": "p1", "question": "Mon secret ?", "options": [], "total_voter_count": 0,
            "is_closed": False, "is_anonymous": True, "type": "regular",
            "allows_multiple_answers": False}})  # fmt: skip
        # ... and a message with no chat at all
        chatless = emulator.push({"message": {"message_id": 9, "date": 0, "text": "mot secret",
                                              "from": {"id": 303, "is_bot": False,
                                                       "first_name": "Léa"}}})  # fmt: skip
        emulator.user_message(SAM, "/start")
        await until(lambda: bool(emulator.sent_to(ZOE.id) and emulator.sent_to(SAM.id)))
        store = app.bot_data["vie"].store
        aside = {uid for uid, *_ in await store.inbox.poison()}
        assert poll["update_id"] in aside, "set aside, by id, for `vie-coach poison`"
        assert await store.inbox.waiting() == [], "nothing stuck"
        # the bot goes on answering
        assert "Par où commencer" in await say(emulator, ZOE, "/start")
    assert chatless["update_id"] in aside
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert str(poll["update_id"]) in logged
    assert "secret" not in logged, "no one's words in the log"


@pytest.mark.timeout(120)
async def test_a_30_second_outage_loses_no_reply(tmp_path: Path, mini: DialogSet) -> None:
    emulator = BotApiEmulator()
    people = [FakeUser(1000 + i, f"P{i}", "fr") for i in range(10)]
    said = ["/start", "/help", "/progress", "euh"]
    async with live_bot(emulator, tmp_path / "o.db", mini) as app:
        # Telegram keeps delivering updates but refuses every send: 15 s of 500s, then
        # 15 s of connections closed unanswered
        emulator.outage((15, "500"), (15, "drop"), methods={"sendMessage"})
        for text in said:
            for person in people:
                emulator.user_message(person, text)
        await until(lambda: not emulator.down, 40)
        assert sum(len(emulator.sent_to(p.id)) for p in people) == 0
        assert not app.bot_data["sender"].available
        await until(lambda: all(len(emulator.sent_to(p.id)) == 4 for p in people), 40)
    for person in people:
        got = texts(emulator, person)
        assert got[0].startswith("Bonjour") and "/invite" in got[1] and "pas compris" in got[3]


async def test_a_full_disk_asks_people_to_send_again_and_stores_nothing(
    tmp_path: Path, mini: DialogSet
) -> None:
    emulator = BotApiEmulator()
    people = [ZOE, *(FakeUser(2000 + i, f"P{i}", "fr") for i in range(14))]
    again = "Pas pu noter, renvoyez-le."
    async with live_bot(emulator, tmp_path / "f.db", mini, per_chat_burst=20) as app:
        assert "Par où commencer" in await say(emulator, ZOE, "/start")
        store = app.bot_data["vie"].store

        async def turns(user_id: int) -> int:  # each stored turn logs its events at one time
            query = "SELECT count(DISTINCT at) FROM events WHERE user_id = ?"
            return int((await store.fetch_all(query, (user_id,)))[0][0])

        before = {p.id: await turns(p.id) for p in people}
        (pages,) = (await store.fetch_all("PRAGMA page_count"))[0]
        await store.fetch_all(f"PRAGMA max_page_count = {pages + 8}")
        await store.write(("CREATE TABLE filler (x BLOB)", [()]))
        with pytest.raises(sqlite3.OperationalError, match="full"):
            for _ in range(10_000):  # the last free pages go: the disk is full
                await store.write(("INSERT INTO filler VALUES (randomblob(100))", [()]))
        count = {p.id: len(emulator.sent_to(p.id)) for p in people}
        for i in range(10):
            for person in people:
                emulator.user_message(person, f"{'un long message ' * 80} {i}")
        await until(
            lambda: all(len(emulator.sent_to(p.id)) >= count[p.id] + 10 for p in people), 30
        )
        told = {p.id: texts(emulator, p)[count[p.id] :] for p in people}
        assert all(len(t) == 10 for t in told.values()), "each message answered once"
        assert sum(t.count(again) for t in told.values()) >= 100, "the disk was full"
        for person in people:  # what could be stored was, whole; the rest left no trace
            stored = await turns(person.id) - before[person.id]
            assert stored == 10 - told[person.id].count(again)
        assert await store.inbox.waiting() == [] and await store.outbox.count() == 0
        await store.write(("DROP TABLE filler", [()]))  # space is back
        await store.fetch_all("PRAGMA max_page_count = 1073741823")
        assert "pas compris" in await say(emulator, people[5], "bof")
        assert "/invite" in await say(emulator, ZOE, "/help")

"""/broadcast on the running bot (the PTB application, polling the Bot API emulator over
HTTP): an operator writes and confirms; people who blocked the bot (403) end as blocked,
and are marked so; a message Telegram refuses for one chat (400) ends as refused; the
others receive it once, and /broadcast status says so."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.core.dialogset import DialogSet
from bot.testing.botapi import BotApiEmulator, FakeUser

from .test_end_to_end import live_bot, press, say

pytestmark = pytest.mark.timeout(60)
OPERATOR = FakeUser(99, "Opé", "fr")
TEXT = "Des nouvelles de VIE Coach, {{ user.first_name }}."


async def test_blocked_people_end_as_blocked_and_the_rest_receive_it_once(
    tmp_path: Path, mini: DialogSet
) -> None:
    emulator = BotApiEmulator()
    people = [FakeUser(1000 + i, f"P{i}", "fr" if i % 2 else "en") for i in range(12)]
    blocked, refused = people[:3], people[3]
    db = tmp_path / "b.db"
    async with live_bot(emulator, db, mini, admins=[OPERATOR.id]) as app:
        for person in [OPERATOR, *people]:
            await say(emulator, person, "/start")
        for person in blocked:
            emulator.fail_chat(person.id)  # 403: they blocked the bot since
        emulator.fail_chat(refused.id, 400, "Bad Request: chat not found")
        assert await say(emulator, OPERATOR, "/broadcast") == "Texte en fr\u202f?"
        await say(emulator, OPERATOR, TEXT)
        preview = await say(emulator, OPERATOR, "pareil")
        assert preview.endswith("13 personnes. On envoie\u202f?")
        assert (await press(emulator, OPERATOR, "Envoyer (13)")).startswith("Parti\xa0: 13")

        jobs = app.bot_data["vie"].conversations.store.broadcasts
        for _ in range(200):
            status = await jobs.status()
            if status.state == "done":
                break
            await asyncio.sleep(0.05)
        assert status.state == "done", status
        status = await say(emulator, OPERATOR, "/broadcast status")
        assert "9/13 reçus, 0 en attente, 3 bloqués, 1 refusés, 0 sautés" in status
    for person in [OPERATOR, *people[4:]]:
        got = [m for m in emulator.sent_to(person.id) if m["text"].startswith("Des nouvelles")]
        assert [m["text"] for m in got] == [f"Des nouvelles de VIE Coach, {person.first_name}."]
    with sqlite3.connect(db) as connection:
        marked = {r[0] for r in connection.execute("SELECT user_id FROM users WHERE blocked = 1")}
    assert marked == {p.id for p in blocked}

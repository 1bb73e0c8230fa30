"""End to end: the real python-telegram-bot HTTP stack (httpx, long polling) against the
Bot API emulator served by aiohttp on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.app.config import load_config
from bot.app.telegram import build_application, serve_polling
from bot.core.dialogset import DialogSet
from bot.testing.botapi import BotApiEmulator, FakeUser, serve

from .conftest import TOKEN

ZOE = FakeUser(101, "Zoé", "fr")
SAM = FakeUser(202, "Sam", "en")


@asynccontextmanager
async def live_bot(
    emulator: BotApiEmulator,
    db: Path,
    dialogs: DialogSet,
    clock: Any = None,
    *,
    bot: dict[str, Any] | None = None,
    dialog_folder: Path | None = None,
    console: dict[str, Any] | None = None,
    **telegram: Any,
) -> AsyncIterator[Any]:
    """The bot as `vie-coach run` starts it, long polling the served emulator (with a fake
    `clock`, the nudge dispatcher is left for the test to drive; with a `dialog_folder`,
    it reloads that folder as `vie-coach run` does)."""
    async with serve(emulator) as base_url:
        config = load_config(
            {
                "bot": bot or {},
                "store": {"path": str(db)},
                "telegram": {"base_url": base_url, **telegram},
                "ops": {"port": 0},
                "console": console or {},
            },
            {"TELEGRAM_BOT_TOKEN": TOKEN},
        )
        extra: dict[str, Any] = {"dialog_folder": dialog_folder}
        if clock is not None:
            extra.update(clock=clock, start_nudges=False)
        app = build_application(config, dialogs, **extra)  # the default HTTPXRequest
        stop = asyncio.Event()
        running = asyncio.create_task(serve_polling(app, stop))
        await until(lambda: "poller" in app.bot_data or running.done())
        try:
            yield app
        finally:
            stop.set()
            await asyncio.wait_for(running, 10)


async def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    for _ in range(int(seconds * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the bot did not answer in time")


def texts(emulator: BotApiEmulator, user: FakeUser) -> list[str]:
    return [m["text"] for m in emulator.sent_to(user.id)]


async def say(emulator: BotApiEmulator, user: FakeUser, text: str) -> str:
    count = len(emulator.sent_to(user.id))
    emulator.user_message(user, text)
    await until(lambda: len(emulator.sent_to(user.id)) > count)
    return texts(emulator, user)[-1]


async def press(emulator: BotApiEmulator, user: FakeUser, label: str) -> str:
    message = emulator.last_with_buttons(user.id)
    data = dict(emulator.buttons(message))[label]
    count = len(emulator.sent_to(user.id))
    emulator.user_press(user, message, data)
    await until(lambda: len(emulator.sent_to(user.id)) > count)
    return texts(emulator, user)[-1]


async def test_invite_link_and_a_whole_path_through_buttons(
    tmp_path: Path, mini: DialogSet
) -> None:
    emulator = BotApiEmulator()
    async with live_bot(emulator, tmp_path / "e.db", mini):
        first = await say(emulator, ZOE, "/start friend-42")  # no such invitation
        assert (
            first == "Bonjour Zoé\u202f!\n\nPar où commencer\u202f?\n\nUn code d'invitation\u202f?"
        )
        assert "Qu'est-ce qui vous retient" in await press(emulator, ZOE, "M'informer")
        assert "Médiamétrie, 2013" in await press(emulator, ZOE, "Vivre caché")
        assert "étape I\u00a0: 2/2" in await press(emulator, ZOE, "Convaincu")
        assert "Informer\u00a0: 2/2 ✓" in await say(emulator, ZOE, "/progress")
        # every press was answered, and every pressed message lost its buttons
        assert len(emulator.calls_to("answerCallbackQuery")) == 3
        assert len(emulator.calls_to("editMessageReplyMarkup")) == 3
        commands = emulator.calls_to("setMyCommands")
        assert {c.get("language_code") for c in commands} == {"fr", "en", None}


async def test_free_text_stale_and_forged_buttons(tmp_path: Path, mini: DialogSet) -> None:
    emulator = BotApiEmulator()
    async with live_bot(emulator, tmp_path / "e.db", mini):
        await say(emulator, ZOE, "/start")
        menu = emulator.last_with_buttons(ZOE.id)
        goodbye = dict(emulator.buttons(menu))["Au revoir"]
        assert "Qu'est-ce qui vous retient" in await say(emulator, ZOE, "et ma vie privée\u202f?")
        # the menu message was never pressed, but the person has moved on
        count = len(emulator.sent_to(ZOE.id))
        emulator.user_press(ZOE, menu, goodbye)
        await until(lambda: len(emulator.sent_to(ZOE.id)) > count)
        assert texts(emulator, ZOE)[-1].startswith("Ce bouton a expiré.")
        count = len(emulator.sent_to(ZOE.id))
        emulator.user_press(ZOE, dict(menu, message_id=9999), "abcdef|welcome|menu|bye")  # forged
        await until(lambda: len(emulator.sent_to(ZOE.id)) > count)
        assert texts(emulator, ZOE)[-1].startswith("Ce bouton a expiré.")
        assert "Qu'est-ce qui vous retient" in texts(emulator, ZOE)[-1], "still where she was"


async def test_blocked_user_then_back(tmp_path: Path, mini: DialogSet) -> None:
    emulator = BotApiEmulator()
    async with live_bot(emulator, tmp_path / "e.db", mini) as app:
        await say(emulator, ZOE, "/start")
        store = app.bot_data["vie"].store
        emulator.user_blocks(ZOE)
        await until(lambda: (store._cache.get(ZOE.id) or ZOE).blocked is True)  # type: ignore[union-attr]
        emulator.user_unblocks(ZOE)
        await until(lambda: store._cache[ZOE.id].blocked is False)
        emulator.fail_chat(ZOE.id)  # blocked without a my_chat_member update: a 403 says so
        emulator.user_message(ZOE, "/help")
        await until(lambda: store._cache[ZOE.id].blocked is True)
        emulator.restore_chat(ZOE.id)
        assert "Content de vous revoir" in await say(emulator, ZOE, "/start")
        assert store._cache[ZOE.id].blocked is False


async def test_429_then_success_loses_nothing(tmp_path: Path, mini: DialogSet) -> None:
    emulator = BotApiEmulator()
    async with live_bot(emulator, tmp_path / "e.db", mini):
        emulator.fail_next("sendMessage", 429, retry_after=1)
        reply = await say(emulator, ZOE, "/start")
        assert (
            reply == "Bonjour Zoé\u202f!\n\nPar où commencer\u202f?\n\nUn code d'invitation\u202f?"
        )
        refused = [c for c in emulator.calls_to("sendMessage")]
        assert len(refused) == 2 and emulator.throttled == 1


async def test_network_errors_are_retried(tmp_path: Path, mini: DialogSet) -> None:
    emulator = BotApiEmulator()
    async with live_bot(emulator, tmp_path / "e.db", mini):
        emulator.fail_next("sendMessage", 502)
        emulator.drop_next("sendMessage")
        assert (
            await say(emulator, ZOE, "/start")
            == "Bonjour Zoé\u202f!\n\nPar où commencer\u202f?\n\nUn code d'invitation\u202f?"
        )
        assert len(emulator.sent_to(ZOE.id)) == 1


async def test_two_people_interleaved(tmp_path: Path, mini: DialogSet) -> None:
    emulator = BotApiEmulator()
    async with live_bot(emulator, tmp_path / "e.db", mini):
        emulator.user_message(ZOE, "/start")
        emulator.user_message(SAM, "/start")
        await until(lambda: bool(emulator.sent_to(ZOE.id)) and bool(emulator.sent_to(SAM.id)))
        zoe_menu, sam_menu = emulator.last_with_buttons(ZOE.id), emulator.last_with_buttons(SAM.id)
        emulator.user_press(SAM, sam_menu, dict(emulator.buttons(sam_menu))["Inform me"])
        emulator.user_press(ZOE, zoe_menu, dict(emulator.buttons(zoe_menu))["Au revoir"])
        emulator.user_message(SAM, "/progress")
        await until(
            lambda: len(emulator.sent_to(SAM.id)) == 3 and len(emulator.sent_to(ZOE.id)) == 2
        )
        assert texts(emulator, SAM)[1] == "What holds you back?"
        assert texts(emulator, SAM)[2].startswith("Spread: 0/0")
        assert texts(emulator, ZOE)[1] == "À bientôt."


async def test_one_persons_rapid_updates_stay_in_order(tmp_path: Path, mini: DialogSet) -> None:
    emulator = BotApiEmulator()
    # a fast per-chat pace, so that 20 answers do not take 20 s
    async with live_bot(
        emulator, tmp_path / "e.db", mini, per_chat_per_second=100, per_chat_burst=20
    ):
        await say(emulator, ZOE, "/start")
        for word in ("/help", "bof", "/progress", "/language fr", "xyz") * 4:
            emulator.user_message(ZOE, word)
        await until(lambda: len(emulator.sent_to(ZOE.id)) == 21)
        replies = texts(emulator, ZOE)[1:]
        expected = (
            "Aide",
            "Je n'ai pas compris",
            "Viraliser",
            "Je parlerai français",
            "Je n'ai pas compris",
        )
        assert all(
            reply.startswith(start) for reply, start in zip(replies, expected * 4, strict=True)
        )


async def test_restart_of_the_bot_mid_conversation(tmp_path: Path, mini: DialogSet) -> None:
    emulator = BotApiEmulator()
    async with live_bot(emulator, tmp_path / "e.db", mini):
        await say(emulator, ZOE, "/start")
        await press(emulator, ZOE, "M'informer")
    async with live_bot(emulator, tmp_path / "e.db", mini):
        reply = await say(emulator, ZOE, "/start")
        assert reply == "Content de vous revoir.\n\nQu'est-ce qui vous retient\u202f?"
        assert "Je comprends (hidden)" in await press(emulator, ZOE, "Vivre caché")


async def test_nudges_are_sent_under_the_rate_limit_and_none_is_lost(
    tmp_path: Path, mini: DialogSet
) -> None:
    from datetime import timedelta

    from bot.testing import FakeClock

    emulator = BotApiEmulator()
    emulator.limit(global_per_second=20, per_chat_per_second=None)
    clock = FakeClock()
    people = [FakeUser(1000 + i, f"P{i}", "fr") for i in range(40)]
    # The bot keeps a margin under the limit, as it should under Telegram's: over loopback
    # on a busy machine, sends spaced by the bot can still arrive bunched.
    async with live_bot(emulator, tmp_path / "n.db", mini, clock.now, overall_per_second=16) as app:
        for person in people:
            emulator.user_message(person, "/start")
        await until(lambda: all(emulator.sent_to(p.id) for p in people))
        for person in people:
            menu = emulator.last_with_buttons(person.id)
            emulator.user_press(person, menu, dict(emulator.buttons(menu))["M'informer"])
        await until(lambda: all(len(emulator.sent_to(p.id)) == 2 for p in people), 20)
        clock.advance(timedelta(days=2, minutes=1))
        await app.bot_data["dispatcher"].drain()
        await app.bot_data["sender"].flush()  # the nudges went to the outbox
    for person in people:
        assert texts(emulator, person)[-1] == f"On en reparle, {person.first_name}\u202f?"
        assert len(emulator.sent_to(person.id)) == 3, "each nudge exactly once"
    assert emulator.throttled == 0, "never over the enforced limit"


async def test_the_advocate_loop_end_to_end(tmp_path: Path, mini: DialogSet) -> None:
    """Paul gets a link, Zoé starts with it and progresses, Paul sees it and is told."""
    import re
    from datetime import timedelta
    from urllib.parse import parse_qs, urlparse

    from bot.testing import FakeClock

    emulator = BotApiEmulator()
    clock = FakeClock()
    paul = FakeUser(500, "Paul", "fr")
    async with live_bot(emulator, tmp_path / "a.db", mini, clock.now) as app:
        invitation = await say(emulator, paul, "/invite Zoé")
        bot = emulator.bot_username
        found = re.search(rf"https://t\.me/{bot}\?start=([A-Za-z0-9_-]+)", invitation)
        assert found is not None, invitation
        ((_, share),) = emulator.links(emulator.sent_to(paul.id)[-1])
        shared = parse_qs(urlparse(share).query)
        assert shared["url"] == [found.group(0)] and "Zoé, j'utilise" in shared["text"][0]
        # Zoé follows the link she was sent
        first = await say(emulator, ZOE, f"/start {found.group(1)}")
        assert "Un ami vous invite." in first and "Paul verra où vous en êtes" in first
        await press(emulator, ZOE, "M'informer")
        await press(emulator, ZOE, "Vivre caché")
        assert "étape I\u00a0: 2/2" in await press(emulator, ZOE, "Convaincu")
        # Paul sees her progress…
        friends = await say(emulator, paul, "/friends")
        assert (
            "Vos proches invités\u00a0: 1" in friends and "Zoé</b> — V 0/0 · I ✓ · E 0/0" in friends
        )
        # …and is told, once, through the outbox and the rate-limited sender
        before = len(emulator.sent_to(paul.id))
        clock.advance(timedelta(minutes=11))
        await app.bot_data["dispatcher"].drain()
        await app.bot_data["dispatcher"].drain()
        await app.bot_data["sender"].flush()
        news = emulator.sent_to(paul.id)[before:]
        assert len(news) == 1 and "Arrivé(s)\u00a0: Zoé" in news[0]["text"]
        assert "Étape terminée\u00a0: Zoé (I)" in news[0]["text"]
        assert [label for label, _ in emulator.buttons(news[0])] == [
            "Voir mes proches",
            "Plus d'alertes",
        ]

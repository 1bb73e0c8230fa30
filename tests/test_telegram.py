"""The real python-telegram-bot stack against the in-process Bot API emulator."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.app.config import load_config
from bot.app.telegram import build_application
from bot.core.dialogset import DialogSet
from bot.testing.botapi import BotApiEmulator, EmulatorRequest, FakeUser

from .conftest import TOKEN

ZOE = FakeUser(101, "Zoé", "fr")
SAM = FakeUser(202, "Sam <b>&", "en-GB")


@pytest.fixture
async def running(
    tmp_path: Path, mini: DialogSet
) -> AsyncIterator[tuple[Application, BotApiEmulator]]:  # type: ignore[type-arg]
    emulator = BotApiEmulator()
    config = load_config(
        {"store": {"path": str(tmp_path / "tg.db")}, "ops": {"port": 0}},
        {"TELEGRAM_BOT_TOKEN": TOKEN},
    )
    app = build_application(config, mini, request=EmulatorRequest(emulator))
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    yield app, emulator
    assert app.post_shutdown is not None
    await app.post_shutdown(app)
    await app.shutdown()


async def deliver(app: Application, update: dict[str, Any]) -> None:  # type: ignore[type-arg]
    """Handle one update, then let the outbox's sender deliver what it produced."""
    await app.process_update(Update.de_json(update, app.bot))
    await app.bot_data["sender"].flush()


async def test_commands_menu_per_language(running: Any) -> None:
    _, emulator = running
    menus = {
        p.get("language_code"): p["commands"] for m, p in emulator.calls if m == "setMyCommands"
    }
    assert set(menus) == {"fr", "en", None}, "and a default menu for other languages"
    assert menus[None] == menus["fr"]  # the default language's (bot.default_language)


async def test_start_then_buttons_then_text(running: Any) -> None:
    app, emulator = running
    await deliver(app, emulator.user_message(ZOE, "/start"))
    texts = [m["text"] for m in emulator.sent_to(ZOE.id)]
    assert texts == [
        "Bonjour Zoé\u202f!\n\nPar où commencer\u202f?\n\nUn code d'invitation\u202f?"
    ], "consecutive texts arrive as one message"
    menu = emulator.last_with_buttons(ZOE.id)
    label, data = emulator.buttons(menu)[0]
    assert label == "M'informer"
    await deliver(app, emulator.user_press(ZOE, menu, data))
    assert emulator.sent_to(ZOE.id)[-1]["text"] == "Qu'est-ce qui vous retient\u202f?"
    assert emulator.buttons(menu) == [("✓ M'informer", "vie:chosen")], "the choice is shown"
    assert any(m == "answerCallbackQuery" for m, _ in emulator.calls)
    calls = len(emulator.calls)
    await deliver(app, emulator.user_press(ZOE, menu, "vie:chosen"))  # the ✓ does nothing
    assert [m for m, _ in emulator.calls[calls:]] == ["answerCallbackQuery"]
    await deliver(app, emulator.user_message(ZOE, "euh"))
    assert "pas compris" in emulator.sent_to(ZOE.id)[-1]["text"]


async def test_deep_link_payload_and_escaped_name(running: Any) -> None:
    app, emulator = running
    await deliver(app, emulator.user_message(ZOE, "/invite"))
    invitation = emulator.sent_to(ZOE.id)[-1]
    bot = emulator.bot_username
    found = re.search(rf"https://t\.me/{bot}\?start=([A-Za-z0-9_-]{{22}})", invitation["text"])
    assert found is not None, invitation["text"]
    ((_, share_url),) = emulator.links(invitation)
    assert share_url.startswith("https://t.me/share/url?url=https%3A%2F%2Ft.me%2F")
    await deliver(app, emulator.user_message(SAM, f"/start {found.group(1)}"))
    (text,) = [m["text"] for m in emulator.sent_to(SAM.id)]
    assert text.startswith("Hello Sam &lt;b&gt;&amp;!\n\nA friend invited you.")
    assert "Zoé will see how far you are" in text


async def test_double_tap_moves_once_and_stale_buttons_expire(running: Any) -> None:
    app, emulator = running
    await deliver(app, emulator.user_message(ZOE, "/start"))
    menu = emulator.last_with_buttons(ZOE.id)
    old = dict(menu)
    first = emulator.buttons(menu)[0][1]
    await deliver(app, emulator.user_press(ZOE, menu, first))
    count = len(emulator.sent_to(ZOE.id))
    await deliver(app, emulator.user_press(ZOE, old, first))  # the same message, tapped twice
    assert len(emulator.sent_to(ZOE.id)) == count, "a double tap is ignored"
    await deliver(app, emulator.user_message(ZOE, "bof"))  # the fallback shows the choices again
    choices = emulator.last_with_buttons(ZOE.id)
    inform = emulator.buttons(choices)[0][1]
    await deliver(app, emulator.user_press(ZOE, choices, inform))
    await deliver(app, emulator.user_message(ZOE, "/start"))
    again = emulator.last_with_buttons(ZOE.id)
    stale = dict(again, message_id=again["message_id"] - 100)  # an older message
    await deliver(app, emulator.user_press(ZOE, stale, inform))
    assert "expiré" in emulator.sent_to(ZOE.id)[-1]["text"]
    await deliver(app, emulator.user_press(ZOE, dict(again, message_id=1), "x" * 64))  # forged
    assert "expiré" in emulator.sent_to(ZOE.id)[-1]["text"]


async def test_sticker_and_photo_get_a_friendly_answer(running: Any) -> None:
    app, emulator = running
    await deliver(app, emulator.user_message(ZOE, "/start"))
    sticker = {
        "file_id": "s",
        "file_unique_id": "s",
        "type": "regular",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
    }
    await deliver(app, emulator.user_message(ZOE, sticker=sticker))
    assert "(sticker)" in emulator.sent_to(ZOE.id)[-1]["text"]
    photo = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
    await deliver(app, emulator.user_message(ZOE, photo=photo))
    assert "(photo)" in emulator.sent_to(ZOE.id)[-1]["text"]


async def test_blocked_user_does_not_crash_the_bot(running: Any) -> None:
    app, emulator = running
    emulator.blocked_chats.add(ZOE.id)
    await deliver(app, emulator.user_message(ZOE, "/start"))
    assert emulator.sent_to(ZOE.id) == []
    emulator.blocked_chats.clear()
    await deliver(app, emulator.user_message(ZOE, "/start"))
    assert emulator.sent_to(ZOE.id)[-1]["text"].startswith("Content de vous revoir.")


async def test_html_rejected_is_resent_as_plain_text(running: Any) -> None:
    app, emulator = running
    from bot.core.events import Send

    await app.bot_data["vie"].transport.send(ZOE.id, Send("<b>broken"))
    assert emulator.sent_to(ZOE.id)[-1]["text"] == "broken"


async def test_group_chats_get_one_notice_then_silence(running: Any) -> None:
    app, emulator = running
    for _ in range(3):
        update = emulator.user_message(ZOE, "/start")
        update["message"]["chat"] = {"id": -100, "type": "group", "title": "Family"}
        await deliver(app, update)
    (notice,) = emulator.sent_to(-100)
    assert "privé" in notice["text"] and emulator.sent_to(ZOE.id) == []


async def test_resume_after_restarting_the_bot(tmp_path: Path, mini: DialogSet) -> None:
    emulator = BotApiEmulator()
    config = load_config(
        {"store": {"path": str(tmp_path / "r.db")}, "ops": {"port": 0}},
        {"TELEGRAM_BOT_TOKEN": TOKEN},
    )
    for round_ in range(2):
        app = build_application(config, mini, request=EmulatorRequest(emulator))
        await app.initialize()
        await app.post_init(app)  # type: ignore[misc]
        if round_ == 0:
            await deliver(app, emulator.user_message(ZOE, "/start"))
            menu = emulator.last_with_buttons(ZOE.id)
            await deliver(app, emulator.user_press(ZOE, menu, emulator.buttons(menu)[0][1]))
        else:
            await deliver(app, emulator.user_message(ZOE, "/start"))
            last = emulator.sent_to(ZOE.id)[-1]["text"]
            assert last == "Content de vous revoir.\n\nQu'est-ce qui vous retient\u202f?"
        await app.post_shutdown(app)  # type: ignore[misc]
        await app.shutdown()
    assert replace(ZOE) == ZOE

"""The Bot API emulator itself, driven by the real PTB `Bot`: in-process and over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.request import HTTPXRequest

from bot.app import logs
from bot.testing.botapi import BotApiEmulator, EmulatorRequest, FakeUser, serve
from bot.testing.botapi_server import decode_params

# A bare PTB Bot, not the bot's start-up (which protects its own token): these tests
# protect theirs, a token of their own, so that the suite's watch over the log still
# catches the bot's token if its start-up ever forgot it (tests/conftest.py).
TOKEN = "7000000003:AAE-emulator-test-token-U7i8O9p0A1s2"
logs.protect(TOKEN)

ZOE = FakeUser(101, "Zoé", "fr")
SAM = FakeUser(202, "Sam", "en")
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Oui", callback_data="yes")]])
Wired = tuple[Bot, BotApiEmulator]
_JSON_TYPE = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without it PTB 22 warns when it builds a RetryAfter, and warnings are errors here.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextlib.asynccontextmanager
async def wired_bot(transport: str, token: str = TOKEN) -> AsyncIterator[Wired]:
    """A real PTB Bot talking to a fresh emulator, in-process or over HTTP."""
    emulator = BotApiEmulator(token=TOKEN)
    async with contextlib.AsyncExitStack() as stack:
        if transport == "http":
            url = await stack.enter_async_context(serve(emulator))
            assert url.startswith("http://127.0.0.1:") and url.endswith("/bot")
            bot = Bot(
                token, base_url=url, request=HTTPXRequest(), get_updates_request=HTTPXRequest()
            )
        else:
            request = EmulatorRequest(emulator)
            bot = Bot(token, request=request, get_updates_request=request)
        await stack.enter_async_context(bot)
        yield bot, emulator


@pytest.fixture(params=["in-process", "http"])
async def wired(request: pytest.FixtureRequest) -> AsyncIterator[Wired]:
    async with wired_bot(request.param) as pair:
        yield pair


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, BotApiEmulator, aiohttp.ClientSession]]:
    """The emulator over HTTP, with a plain HTTP client to post what PTB never would."""
    emulator = BotApiEmulator(token=TOKEN)
    async with serve(emulator) as url, aiohttp.ClientSession() as session:
        yield f"{url}{TOKEN}/", emulator, session


# -- Bot API shapes ----------------------------------------------------------------------------
async def test_get_me_has_the_bot_api_shape(wired: Wired) -> None:
    bot, emulator = wired
    me = await bot.get_me()
    assert me.is_bot and me.username == emulator.bot_username and me.id == emulator.bot_id
    status, body = await emulator.call("getMe", {}, TOKEN)
    assert status == 200 and body["ok"] and body["result"]["is_bot"] is True
    assert len(emulator.calls_to("getMe")) >= 2  # Bot.initialize asked too


async def test_inline_keyboard_round_trip(wired: Wired) -> None:
    bot, emulator = wired
    sent = await bot.send_message(
        ZOE.id, "Ça <b>va</b> ?", parse_mode="HTML", reply_markup=KEYBOARD
    )
    assert sent.reply_markup == KEYBOARD and sent.chat.type == "private"
    stored = emulator.last_with_buttons(ZOE.id)
    assert emulator.buttons(stored) == [("Oui", "yes")]
    assert isinstance(stored["date"], int) and abs(stored["date"] - time.time()) < 5
    # Both transports hand the core the same decoded parameters.
    params = emulator.calls_to("sendMessage")[-1]
    assert params["chat_id"] == ZOE.id and params["text"] == "Ça <b>va</b> ?"
    assert params["reply_markup"] == KEYBOARD.to_dict()
    press = Update.de_json(emulator.user_press(ZOE, stored, "yes"), bot)
    assert press.callback_query is not None and press.callback_query.data == "yes"
    assert isinstance(press.callback_query.message, Message)
    assert press.callback_query.message.message_id == sent.message_id


async def test_text_rules_answer_400(wired: Wired) -> None:
    bot, _ = wired
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(ZOE.id, "<b>open", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(ZOE.id, "  ")
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(ZOE.id, "x" * 4097)


async def test_edits_return_the_message_and_refuse_no_change(wired: Wired) -> None:
    bot, emulator = wired
    sent = await bot.send_message(ZOE.id, "avant", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("après", ZOE.id, sent.message_id, reply_markup=KEYBOARD)
    assert isinstance(edited, Message) and edited.text == "après" and edited.edit_date
    assert edited.reply_markup == KEYBOARD
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("après", ZOE.id, sent.message_id, reply_markup=KEYBOARD)
    # A text edit that does not restate the keyboard drops it, as on Telegram.
    bare = await bot.edit_message_text("sans boutons", ZOE.id, sent.message_id)
    assert isinstance(bare, Message) and bare.reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(ZOE.id, sent.message_id, reply_markup=None)
    again = await bot.edit_message_reply_markup(ZOE.id, sent.message_id, reply_markup=KEYBOARD)
    assert isinstance(again, Message) and again.reply_markup == KEYBOARD
    assert emulator.sent_to(ZOE.id)[0]["text"] == "sans boutons"
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("?", ZOE.id, sent.message_id + 99)


async def test_webhook_commands_and_small_methods(wired: Wired) -> None:
    bot, emulator = wired
    assert await bot.set_webhook("https://example.invalid/hook", secret_token="s3cret")
    assert (emulator.webhook_url, emulator.webhook_secret) == (
        "https://example.invalid/hook",
        "s3cret",
    )
    emulator.user_message(ZOE, "pending")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.invalid/hook" and info.pending_update_count == 1
    assert info.has_custom_certificate is False
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0
    assert await bot.set_my_commands([BotCommand("start", "Commencer")], language_code="fr")
    assert await bot.get_my_commands(language_code="fr") == (BotCommand("start", "Commencer"),)
    assert await bot.get_my_commands() == ()
    assert await bot.send_chat_action(ZOE.id, "typing")
    assert await bot.leave_chat(-100)


async def test_client_side_updates_parse_in_ptb(wired: Wired) -> None:
    bot, emulator = wired
    blocked = Update.de_json(emulator.user_blocks(ZOE), bot).my_chat_member
    assert blocked is not None and blocked.chat.type == "private" and blocked.from_user.id == ZOE.id
    assert blocked.old_chat_member.status == "member"
    assert blocked.new_chat_member.status == "kicked"
    assert blocked.new_chat_member.user.id == emulator.bot_id
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(ZOE.id, "coucou")
    back = Update.de_json(emulator.user_unblocks(ZOE), bot).my_chat_member
    assert back is not None and back.new_chat_member.status == "member"
    await bot.send_message(ZOE.id, "re-coucou")

    original = emulator.user_message(ZOE, "/strat")
    edited = Update.de_json(emulator.user_edits(ZOE, original, "/start"), bot).edited_message
    assert edited is not None and edited.text == "/start" and edited.edit_date is not None
    assert edited.message_id == original["message"]["message_id"]
    group = Update.de_json(emulator.group_message(SAM, -4242, "salut"), bot).message
    assert group is not None and group.chat.type == "group" and group.chat.id == -4242
    assert group.from_user is not None and group.from_user.id == SAM.id
    with pytest.raises(ValueError, match="negative"):
        emulator.group_message(SAM, 4242, "salut")


# -- errors and faults ---------------------------------------------------------------------
async def test_injected_429_surfaces_as_retry_after(wired: Wired) -> None:
    bot, emulator = wired
    emulator.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ZOE.id, "un")
    assert caught.value.retry_after == timedelta(seconds=3)
    await bot.send_message(ZOE.id, "deux")
    assert [m["text"] for m in emulator.sent_to(ZOE.id)] == ["deux"], "a 429 is not performed"
    assert emulator.throttled == 1 and len(emulator.calls_to("sendMessage")) == 2


async def test_failing_chat_answers_403_until_restored(wired: Wired) -> None:
    bot, emulator = wired
    emulator.fail_chat(ZOE.id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ZOE.id, "coucou")
    emulator.fail_chat(SAM.id, 403, "Forbidden: user is deactivated")
    with pytest.raises(Forbidden, match="deactivated"):
        await bot.send_chat_action(SAM.id, "typing")
    emulator.restore_chat(ZOE.id)
    await bot.send_message(ZOE.id, "coucou")
    emulator.blocked_chats.add(ZOE.id)  # the older shorthand still works
    with pytest.raises(Forbidden):
        await bot.send_message(ZOE.id, "coucou")


async def test_server_errors_are_plain_network_errors(wired: Wired) -> None:
    bot, emulator = wired
    emulator.fail_next("sendMessage", 500, "Internal Server Error", times=2)
    emulator.fail_next("sendMessage", 502)
    for description in ("Internal Server Error", "Internal Server Error", "Bad Gateway"):
        with pytest.raises(NetworkError, match=description) as caught:
            await bot.send_message(ZOE.id, "hello")
        assert type(caught.value) is NetworkError  # not BadRequest, its subclass
    await bot.send_message(ZOE.id, "hello")
    assert len(emulator.sent_to(ZOE.id)) == 1


async def test_dropped_connection_is_a_network_error(wired: Wired) -> None:
    bot, emulator = wired
    emulator.drop_next("sendMessage")
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(ZOE.id, "perdu")
    assert type(caught.value) is NetworkError
    assert emulator.sent_to(ZOE.id) == [] and len(emulator.calls_to("sendMessage")) == 1
    await bot.send_message(ZOE.id, "reçu")
    assert [m["text"] for m in emulator.sent_to(ZOE.id)] == ["reçu"]


async def test_wrong_token_is_401(wired: Wired) -> None:
    bot, emulator = wired
    url = bot.base_url.removesuffix(TOKEN)
    served = url.startswith("http://127.0.0.1")
    request = HTTPXRequest() if served else EmulatorRequest(emulator)
    other = Bot("654321:wrong", base_url=url, request=request)
    with pytest.raises(InvalidToken, match="Unauthorized"):
        await other.get_me()
    await request.shutdown()  # the Bot was never initialized, so it would not close it
    status, body = await emulator.call("getMe", {}, "654321:wrong")
    assert status == 401 and body == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert (await BotApiEmulator().call("getMe", {}, "any:token"))[0] == 200


async def test_rate_limits_with_a_fake_clock(wired: Wired) -> None:
    bot, emulator = wired
    emulator.clock = clock = FakeClock()
    emulator.limit(global_per_second=3, per_chat_per_second=1)
    await bot.send_message(ZOE.id, "1")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ZOE.id, "2")  # the same chat within the second
    assert caught.value.retry_after == timedelta(seconds=1)
    assert await bot.send_chat_action(ZOE.id, "typing")  # not a limited method
    await bot.send_message(SAM.id, "1")
    await bot.send_message(303, "1")
    with pytest.raises(RetryAfter):
        await bot.send_message(404, "1")  # a fourth chat: over the global 3/s
    clock.now += 0.5
    with pytest.raises(RetryAfter):
        await bot.send_message(ZOE.id, "2")
    clock.now += 0.5
    await bot.send_message(ZOE.id, "2")
    edited = await bot.edit_message_text("2bis", SAM.id, emulator.sent_to(SAM.id)[0]["message_id"])
    assert isinstance(edited, Message)
    assert emulator.throttled == 3
    assert [m["text"] for m in emulator.sent_to(ZOE.id)] == ["1", "2"]
    assert emulator.sent_to(404) == []


async def test_rate_limit_windows_bursts_and_retry_after() -> None:
    emulator = BotApiEmulator()
    emulator.clock = clock = FakeClock()

    async def send(chat: int) -> tuple[int, dict[str, Any]]:
        return await emulator.call("sendMessage", {"chat_id": chat, "text": "x"})

    emulator.limit(None, 1, burst=3)
    assert [(await send(1))[0] for _ in range(4)] == [200, 200, 200, 429]
    emulator.limit(None, 0.25)  # one every 4 s: the window stretches
    assert (await send(1))[0] == 200
    clock.now += 1.5
    status, body = await send(1)
    assert status == 429 and body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    clock.now += 2.5
    assert (await send(1))[0] == 200
    emulator.limit(None, None)
    assert {(await send(1))[0] for _ in range(10)} == {200}


async def test_fail_ratio_is_reproducible() -> None:
    async def statuses(seed: int) -> list[int]:
        emulator = BotApiEmulator()
        emulator.fail_ratio("sendMessage", 0.01, seed=seed)
        out = [
            (await emulator.call("sendMessage", {"chat_id": 1, "text": "x"}))[0]
            for _ in range(2000)
        ]
        assert emulator.throttled == out.count(429)
        return out

    first = await statuses(0)
    assert first == await statuses(0) and first != await statuses(1)
    assert 5 <= first.count(429) <= 40 and set(first) == {200, 429}


async def test_bad_calls_answer_400_and_404() -> None:
    emulator = BotApiEmulator()
    status, body = await emulator.call("sendMessage", {"chat_id": 1})
    assert status == 400 and "text" in body["description"]
    assert (await emulator.call("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": "{"}))[
        0
    ] == 400
    status, body = await emulator.call("sendCarrierPigeon", {})
    assert (status, body["description"]) == (404, "Not Found")
    assert [m for m, _ in emulator.calls] == ["sendMessage", "sendMessage", "sendCarrierPigeon"]


# -- long polling ------------------------------------------------------------------------------
async def test_long_poll_returns_an_update_pushed_during_the_wait(wired: Wired) -> None:
    bot, emulator = wired
    assert await bot.get_updates(timeout=0) == ()
    poll = asyncio.create_task(bot.get_updates(offset=0, timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done(), "the poll waits for an update"
    emulator.user_message(ZOE, "coucou")
    updates = await asyncio.wait_for(poll, 2)
    assert len(updates) == 1 and updates[0].message is not None
    assert updates[0].message.text == "coucou"
    # Asking from the next offset confirms it: it is gone.
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
    params = emulator.calls_to("getUpdates")[-1]
    assert params["offset"] == updates[0].update_id + 1 and params["timeout"] == 0


async def test_server_exit_does_not_wait_for_a_long_poll() -> None:
    emulator = BotApiEmulator()
    async with aiohttp.ClientSession() as session:
        async with serve(emulator) as url:
            poll = asyncio.create_task(session.get(f"{url}1:x/getUpdates?timeout=30"))
            while not emulator.calls_to("getUpdates"):
                await asyncio.sleep(0.005)
            started = time.monotonic()
        assert time.monotonic() - started < 1
        with contextlib.suppress(aiohttp.ClientError):
            (await poll).close()


# -- the HTTP transport ------------------------------------------------------------------------
async def test_form_json_multipart_and_query_bodies(
    served: tuple[str, BotApiEmulator, aiohttp.ClientSession],
) -> None:
    url, emulator, session = served
    markup = json.dumps(KEYBOARD.to_dict())
    form = {"chat_id": "101", "text": "123", "reply_markup": markup, "disable_notification": "true"}
    async with session.post(url + "sendMessage", data=form) as response:
        assert response.status == 200 and response.content_type == "application/json"
        body = await response.json()
    assert body["result"]["text"] == "123" and body["result"]["chat"]["id"] == 101
    assert emulator.calls_to("sendMessage")[-1] == {
        "chat_id": 101,
        "text": "123",
        "reply_markup": KEYBOARD.to_dict(),
        "disable_notification": True,
    }
    async with session.post(url + "sendMessage", json={"chat_id": 101, "text": "[1]"}) as response:
        assert response.status == 200 and (await response.json())["result"]["text"] == "[1]"
    multipart = aiohttp.FormData(default_to_multipart=True)
    multipart.add_field("chat_id", "101")
    multipart.add_field("text", "[1, 2]")
    multipart.add_field("reply_markup", markup)
    multipart.add_field("document", b"%PDF", filename="cv.pdf")
    async with session.post(url + "sendMessage", data=multipart) as response:
        assert response.status == 200
    params = emulator.calls_to("sendMessage")[-1]
    assert params["text"] == "[1, 2]" and params["reply_markup"] == KEYBOARD.to_dict()
    assert params["document"] == b"%PDF"
    emulator.user_message(ZOE, "hi")
    async with session.get(url + "getUpdates?offset=0&timeout=0&limit=5") as response:
        assert response.status == 200 and len((await response.json())["result"]) == 1
    assert emulator.calls_to("getUpdates")[-1] == {"offset": 0, "timeout": 0, "limit": 5}


async def test_http_errors_are_real_status_codes(
    served: tuple[str, BotApiEmulator, aiohttp.ClientSession],
) -> None:
    url, emulator, session = served
    emulator.fail_next("sendMessage", 429, retry_after=7)
    emulator.fail_chat(SAM.id)
    expected: list[tuple[int, dict[str, Any]]] = [
        (
            429,
            {"description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}},
        ),
        (403, {"description": "Forbidden: bot was blocked by the user"}),
    ]
    for chat, (status, extra) in zip((ZOE.id, SAM.id), expected, strict=True):
        async with session.post(url + "sendMessage", data={"chat_id": chat, "text": "x"}) as r:
            assert r.status == status
            assert await r.json() == {"ok": False, "error_code": status, **extra}
    async with session.post(url + "sendMessage", data=b"{oops", headers=_JSON_TYPE) as r:
        assert r.status == 400 and (await r.json())["ok"] is False
    async with session.get(url.replace(TOKEN, "1:nope") + "getMe") as r:
        assert r.status == 401 and (await r.json())["description"] == "Unauthorized"
    async with session.get(url + "noSuchMethod") as r:
        assert r.status == 404 and (await r.json())["error_code"] == 404


def test_form_values_are_decoded_by_parameter_name() -> None:
    decoded = decode_params(
        [
            ("chat_id", "-100"),
            ("chat_id_text", "5"),
            ("text", "123"),
            ("data", '{"a": 1}'),
            ("timeout", "1.5"),
            ("offset", "x"),
            ("show_alert", "false"),
            ("allowed_updates", '["message"]'),
            ("reply_markup", "not json"),
        ]
    )
    assert decoded == {
        "chat_id": -100,
        "chat_id_text": "5",
        "text": "123",
        "data": '{"a": 1}',
        "timeout": 1.5,
        "offset": "x",
        "show_alert": False,
        "allowed_updates": ["message"],
        "reply_markup": "not json",
    }
    assert decode_params([("chat_id", "@channel")]) == {"chat_id": "@channel"}

"""The operators' console over HTTP (aiohttp's test client on 127.0.0.1, a real SQLite
file, a history made by real turns): nobody gets in without a one-time link, a link
works once and expires, the session cookie is HttpOnly and SameSite=Strict (Secure over
https), a changing request needs the CSRF token, every page answers in French and in
English, and no page names a person or shows what anyone wrote but the anonymous texts
not understood. /console itself: a link for an operator, the ordinary unknown-command
answer for anyone else. Chromium drives the same pages in test_console_browser.py."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app.bootstrap import standard_features
from bot.app.graph_command import dot_available
from bot.console import figures
from bot.console.access import COOKIE, Access, derived_key
from bot.console.desk import Desk
from bot.console.server import console_app
from bot.core.dialogset import DialogSet
from bot.core.render import to_plain
from bot.dialogs.load import load_dialogs
from bot.features.operators.console import ConsoleLink, OpenConsole, console_replies
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore
from bot.store.console_links import ConsoleLinks
from bot.store.opening import SqlStore
from bot.testing import ChatHarness, FakeClock
from bot.testing.botapi import BotApiEmulator, FakeUser

from .conftest import LANGS, MINI
from .test_end_to_end import live_bot, say
from .test_migration import edit, load

ADMIN = 99
PEOPLE = {4101: "Ginette", 4102: "Marcel", 4103: "Raymonde", 4104: "Lucien", 4105: "Odette"}
SECRET_WORDS = "zorglub <script>alert(1)</script>"
PAGES = ("/", "/?by=advocate", "/?by=cohort", "/?by=language", "/map", "/node/informer.intro",
         "/unknown", "/experiments", "/broadcasts", "/versions")  # fmt: skip


@pytest.fixture(scope="module")
def dialogs() -> DialogSet:
    return load_dialogs(MINI, LANGS, "welcome", standard_features(admins=(ADMIN,)))


class Console:
    """A console on a real store, its clock, and what it signs with."""

    def __init__(self, store: SqlStore, dialogs: DialogSet, secure: bool = False) -> None:
        self.clock = FakeClock()
        self.conversations = Conversations(dialogs, store, "fr")
        self.access = Access(derived_key("", "123:token"), frozenset({ADMIN}))
        self.links = ConsoleLinks(store.write)
        self.desk = Desk(
            store, lambda: dialogs, self.access, self.links, self.clock.now, "fr",
            timedelta(days=30), secure,
        )  # fmt: skip
        self.client = TestClient(TestServer(console_app(self.desk)))

    async def history(self) -> None:
        """Five people start; each goes one step and types something not understood."""
        for user_id, name in PEOPLE.items():
            person = ChatHarness(self.conversations, Person(user_id, name, "fr"), self.clock)
            await person.send("/start")
            await person.press(1)
            await person.send(SECRET_WORDS)
            await person.send(f"je m'appelle {name}, je ne sais pas")
        admin = ChatHarness(self.conversations, Person(ADMIN, "Odile", "en"), self.clock)
        await admin.send("/start")

    async def link(self, admin: int = ADMIN) -> str:
        token, link = self.access.new_link(admin, self.clock.now())
        await self.links.keep(link.nonce_hash, link.admin_id, link.expires)
        return f"/login/{token}"

    async def login(self) -> None:
        response = await self.client.get(await self.link(), allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/"


@pytest.fixture
async def console(any_store: SqlStore, dialogs: DialogSet) -> AsyncIterator[Console]:
    """The console on each store (SQLite, then PostgreSQL), after the same history."""
    c = Console(any_store, dialogs)
    await c.history()
    await c.client.start_server()
    yield c
    await c.client.close()


async def test_nothing_without_a_login(console: Console) -> None:
    for page in PAGES:
        response = await console.client.get(page)
        assert response.status == 401
        body = await response.text()
        assert 'id="login-needed"' in body and "/console" in body
        assert "Ginette" not in body and "informer" not in body


async def test_a_link_works_once_then_is_refused(console: Console) -> None:
    link = await console.link()
    first = await console.client.get(link, allow_redirects=False)
    assert first.status == 303
    cookie = first.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]
    assert cookie["max-age"] == str(8 * 3600)
    assert (await console.client.get("/")).status == 200
    console.client.session.cookie_jar.clear()
    again = await console.client.get(link, allow_redirects=False)
    assert again.status == 403 and 'id="refused"' in await again.text()
    assert COOKIE not in again.cookies
    assert (await console.client.get("/")).status == 401


async def test_an_expired_forged_or_foreign_link_is_refused(console: Console) -> None:
    expired = await console.link()
    console.clock.advance(timedelta(minutes=10, seconds=1))
    forged = (await console.link()).replace("/login/99.", "/login/98.")
    foreign = await console.link(admin=4101)  # not an operator: never kept, never valid
    garbled = (await console.link())[:-3] + "abc"
    for link in (expired, forged, foreign, garbled, "/login/nothing"):
        response = await console.client.get(link, allow_redirects=False)
        assert response.status == 403, link
        assert 'id="refused"' in await response.text()


async def test_a_session_ends_with_its_time_or_the_operator_s_rights(
    store: SqliteStore, dialogs: DialogSet
) -> None:
    c = Console(store, dialogs, secure=True)
    await c.history()
    async with c.client:
        link = await c.link()
        response = await c.client.get(link, allow_redirects=False)
        assert response.cookies[COOKIE]["secure"]  # over https: Secure
        # aiohttp's test client keeps no Secure cookie on http: the browser would
        cookie = response.cookies[COOKIE].value
        assert (await c.client.get("/", cookies={COOKIE: cookie})).status == 200
        c.clock.advance(timedelta(hours=8))
        assert (await c.client.get("/", cookies={COOKIE: cookie})).status == 401
        tampered = cookie.replace("99.", "4101.", 1)
        assert (await c.client.get("/", cookies={COOKIE: tampered})).status == 401
        cookie, _ = c.access.new_session(ADMIN, c.clock.now())
        assert (await c.client.get("/", cookies={COOKIE: cookie})).status == 200
        c.access.admins = frozenset()  # restarted with ADMIN no longer in telegram.admins
        assert (await c.client.get("/", cookies={COOKIE: cookie})).status == 401


async def test_every_page_in_both_languages_names_nobody(console: Console) -> None:
    await console.login()
    for lang in ("fr", "en"):
        for page in PAGES:
            sep = "&" if "?" in page else "?"
            response = await console.client.get(f"{page}{sep}lang={lang}")
            assert response.status == 200, page
            body = await response.text()
            assert f'<html lang="{lang}">' in body
            for header in ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"):
                assert header in response.headers
            assert "script-src" not in response.headers["Content-Security-Policy"]
            # what people typed may hold anything, their own name too: it is shown only
            # in the tables of texts not understood, which say nobody wrote it
            body = re.sub(
                r'<table id="(unknown-rows|node-unknown)">.*?</table>', "", body, flags=re.S
            )
            for user_id, name in PEOPLE.items():
                assert name not in body, (page, name)
                assert str(user_id) not in body, (page, user_id)
            assert "<script>" not in body
            assert "zorglub" not in body, page


async def test_the_funnel_shows_the_known_history(console: Console) -> None:
    await console.login()
    body = await (await console.client.get("/?lang=en")).text()
    assert re.search(r'data-figure="started">6<', body)  # five people and the operator
    assert "Funnel" in body and "Started" in body
    french = await (await console.client.get("/?lang=fr")).text()
    assert "Ont commencé" in french


async def test_the_map_counts_people_per_node_and_opens_a_node(console: Console) -> None:
    await console.login()
    body = await (await console.client.get("/map")).text()
    row = re.search(r'data-node="informer\.intro".*?</tr>', body, re.S)
    assert row is not None
    reached = re.search(r'data-figure="reached">(\d+)<', row.group(0))
    here = re.search(r'data-figure="here">(\d+)<', row.group(0))
    assert reached and here and reached.group(1) == "5" and here.group(1) == "5"
    node = await (await console.client.get("/node/informer.intro")).text()
    assert "Qu&#39;est-ce qui vous retient ?" in node  # the French text, escaped data
    assert 'class="text text-en"' in node and 'class="text text-fr"' in node
    assert "zorglub &lt;script&gt;" in node  # what was not understood here, as data
    missing = await console.client.get("/node/informer.nowhere")
    assert missing.status == 404
    mapped = await figures.dialog_map(
        console.desk.store, console.desk.dialogs(), console.clock.now(), 30
    )
    assert (mapped.people, mapped.finished) == (6, 0)  # the picture's title says so


async def test_not_understood_is_counted_and_never_tied_to_anyone(console: Console) -> None:
    await console.login()
    body = await (await console.client.get("/unknown")).text()
    row = re.search(r"<tr><td class=\"n\">(\d+)</td>.*?zorglub.*?</tr>", body, re.S)
    assert row is not None and row.group(1) == "5"  # five people, one line
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


async def test_a_change_needs_the_csrf_token_and_a_confirmation(console: Console) -> None:
    store = console.desk.store
    started = await store.broadcasts.start(ADMIN, {"fr": "Bonjour", "en": "Hello"}, "fr", 0.1,
                                           console.clock.now())  # fmt: skip
    assert started is not None
    await console.login()
    page = await (await console.client.get("/broadcasts")).text()
    assert 'data-state="running"' in page and 'id="pause"' in page
    refused = await console.client.post("/broadcasts/pause", data={})
    assert refused.status == 403 and 'id="refused"' in await refused.text()
    wrong = await console.client.post("/broadcasts/pause", data={"csrf": "x" * 43})
    assert wrong.status == 403
    assert (await store.broadcasts.status()).state == "running"  # type: ignore[union-attr]
    confirm = await (await console.client.get("/broadcasts/pause")).text()
    token = re.search(r'name="csrf" value="([^"]+)"', confirm)
    assert token is not None and 'id="confirm-yes"' in confirm
    done = await console.client.post("/broadcasts/pause", data={"csrf": token.group(1)})
    assert done.status == 200 and str(done.url).endswith("/broadcasts?done=done_pause")
    body = await done.text()
    assert 'data-state="paused"' in body and 'id="resume"' in body
    resumed = await console.client.post("/broadcasts/resume", data={"csrf": token.group(1)})
    assert 'data-state="running"' in await resumed.text()
    # a session's token is no other session's
    await console.login()
    stale = await console.client.post("/broadcasts/pause", data={"csrf": token.group(1)})
    assert stale.status == 403


async def test_console_gives_an_operator_a_link_and_nobody_else(
    store: SqliteStore, dialogs: DialogSet
) -> None:
    c = Console(store, dialogs)
    base = "https://ops.example.org"

    async def open_console(asked: OpenConsole, turn: object) -> list[object]:
        token, link = c.access.new_link(ADMIN, c.clock.now())
        await c.links.keep(link.nonce_hash, link.admin_id, link.expires)
        return console_replies(turn, ConsoleLink(f"{base}/login/{token}", 10))  # type: ignore[arg-type]

    c.conversations.carry_out[OpenConsole] = open_console  # type: ignore[assignment]
    someone = ChatHarness(c.conversations, Person(4101, "Ginette", "fr"), c.clock)
    await someone.send("/start")
    told = to_plain((await someone.send("/console"))[0].text)
    unknown = to_plain((await someone.send("/zzconsole"))[0].text)
    assert told == unknown.replace("zzconsole", "console")
    admin = ChatHarness(c.conversations, Person(ADMIN, "Odile", "fr"), c.clock)
    await admin.send("/start")
    reply = to_plain((await admin.send("/console"))[0].text)
    assert f"{base}/login/99." in reply and "10 minutes" in reply
    (kept,) = await store.fetch_all("SELECT admin_id, used_ms FROM console_links")
    assert tuple(kept) == (ADMIN, None)
    await admin.send("/forget")
    await admin.press("Oui, effacer")
    # erased with the operator, like everything else about them
    assert await store.fetch_all("SELECT count(*) FROM console_links") == [(0,)]
    await c.client.close()


async def test_rollback_from_the_console_serves_the_version_before(tmp_path: Path) -> None:
    """The running bot (PTB on the emulator) with its console: the link from /console,
    the map drawn with its boxes as links (when Graphviz is here), and a rollback in one
    confirmed click that writes the files back and serves them."""
    folder = tmp_path / "dialogs"
    shutil.copytree(MINI, folder)
    emulator = BotApiEmulator()
    operator = FakeUser(ADMIN, "Odile", "fr")
    async with live_bot(
        emulator, tmp_path / "vie.db", load(folder), FakeClock().now,
        bot={"dialogs": str(folder), "watch_dialogs": False}, dialog_folder=folder,
        console={"enabled": True, "port": 0}, admins=[ADMIN],
    ) as app:  # fmt: skip
        first = app.bot_data["vie"].conversations.dialogs.version
        edit(folder, "welcome.yaml", "Par où commencer ?", "Par quoi commencer ?")
        assert (await app.bot_data["reloader"].reload("test")).result == "done"
        second = app.bot_data["vie"].conversations.dialogs.version
        answer = await say(emulator, operator, "/console")
        found = re.search(r"http://127\.0\.0\.1:\d+/login/\S+", answer)
        assert found, answer
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
            async with web.get(found.group(0)) as response:
                assert response.status == 200 and str(response.url).endswith("/")
            base = str(response.url).rstrip("/")
            async with web.get(f"{base}/map") as response:
                body = await response.text()
            if dot_available():
                assert "<svg" in body and 'href="/node/welcome.menu"' in body
            else:
                assert 'id="no-picture"' in body
            async with web.get(f"{base}/versions") as response:
                versions = await response.text()
            assert f'data-version="{first}"' in versions
            assert f'data-version="{second}"' not in versions  # the one served: no button
            async with web.get(f"{base}/versions/rollback/{first}") as response:
                token = re.search(r'name="csrf" value="([^"]+)"', await response.text())
            assert token is not None
            async with web.post(
                f"{base}/versions/rollback/{first}", data={"csrf": token.group(1)}
            ) as response:
                assert response.status == 200, await response.text()
                assert str(response.url).endswith(f"/versions?rolled={first}")
                assert f"{first}" in await response.text()
        assert app.bot_data["vie"].conversations.dialogs.version == first
        assert "Par où commencer" in (folder / "welcome.yaml").read_text()

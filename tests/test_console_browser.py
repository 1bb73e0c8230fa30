"""The operators' console end to end: the running bot (the PTB stack polling the Bot API
emulator over HTTP) with its console on 127.0.0.1, and a headless Chromium that opens the
link an operator gets from /console. A known history (three people, a few steps each)
must show as such; pausing and resuming a broadcast goes through a confirmation; a link
works once and not after it expired; a changing request without the CSRF token changes
nothing. Screenshots of every page go to artefacts/screenshots/."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from bot.app.config import load_config
from bot.app.telegram import build_application, serve_polling
from bot.core.dialogset import DialogSet
from bot.store.broadcasts import BroadcastQueries
from bot.testing import FakeClock
from bot.testing.botapi import BotApiEmulator, FakeUser, serve
from bot.testing.browser import Browser

from .conftest import TOKEN
from .test_end_to_end import press, say, until

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # the `browser` fixture skips (fails with CI=true) and says why
    pass
if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.timeout(120)
OPERATOR = FakeUser(99, "Opé", "fr")
PEOPLE = [FakeUser(301, "Zoé", "fr"), FakeUser(302, "Sam", "en"), FakeUser(303, "Léa", "fr")]
LOST = "je ne vois vraiment pas où aller"  # typed where nothing is understood
LINK = re.compile(r"https?://\S+/login/\S+")


@asynccontextmanager
async def console_bot(
    emulator: BotApiEmulator, db: Path, dialogs: DialogSet, clock: FakeClock
) -> AsyncIterator[Any]:
    """The bot as `vie-coach run` starts it, with its console on any free port and
    OPERATOR as the one operator; the clock moves only when the test says so."""
    async with serve(emulator) as base_url:
        config = load_config(
            {
                "store": {"path": str(db)},
                "telegram": {"base_url": base_url, "admins": [OPERATOR.id]},
                "ops": {"port": 0},
                "console": {"enabled": True, "port": 0},
                # one person every 100 s: a broadcast stays running through the test
                "broadcast": {"per_second": 0.01},
            },
            {"TELEGRAM_BOT_TOKEN": TOKEN},
        )
        app = build_application(config, dialogs, clock=clock.now, start_nudges=False)
        stop = asyncio.Event()
        running = asyncio.create_task(serve_polling(app, stop))
        await until(lambda: "console_port" in app.bot_data or running.done())
        await until(lambda: "poller" in app.bot_data or running.done())
        assert not running.done(), running
        try:
            yield app
        finally:
            stop.set()
            await asyncio.wait_for(running, 10)


async def console_link(emulator: BotApiEmulator) -> str:
    """The link in the bot's answer to the operator's /console."""
    answer = await say(emulator, OPERATOR, "/console")
    found = LINK.search(answer)
    assert found, "the answer to /console holds no link"
    return found.group(0)


async def visit(browser: Browser, url: str) -> str:
    """Open `url`; the id of the page's <main>, or "refused"."""

    def go(driver: WebDriver) -> str:
        driver.get(url)
        if driver.find_elements(By.CSS_SELECTOR, "h1#refused"):
            return "refused"
        return str(driver.find_element(By.TAG_NAME, "main").get_attribute("id"))

    return await browser.run(go)


async def text_of(browser: Browser, css: str) -> str:
    return await browser.run(lambda d: d.find_element(By.CSS_SELECTOR, css).text)


async def confirm(browser: Browser, button: str, state: str) -> None:
    """Press `a#<button>` on the broadcasts page, check the confirmation form carries the
    CSRF token, say yes, and wait for the broadcasts page showing `state`."""

    def go(driver: WebDriver) -> None:
        driver.find_element(By.CSS_SELECTOR, f"a#{button}").click()
        form = WebDriverWait(driver, 10).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "form#confirm")
        )
        assert form.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")
        browser.screenshot(f"broadcast-confirm-{button}")
        form.find_element(By.CSS_SELECTOR, "button#confirm-yes").click()
        WebDriverWait(driver, 10).until(lambda d: shown_state(d) in (state, "done"))
        assert shown_state(driver) == state

    await browser.run(go)


def shown_state(driver: WebDriver) -> str | None:
    if not driver.current_url.split("?")[0].endswith("/broadcasts"):
        return None
    found = driver.find_elements(By.CSS_SELECTOR, "[data-state]")
    return found[0].get_attribute("data-state") if found else None


def post(path: str, body: str) -> Callable[[WebDriver], int]:
    """A fetch() from the console's own page (the session cookie goes with it): its
    HTTP status."""
    script = """
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {method: "POST", body: arguments[1], redirect: "manual",
               headers: {"Content-Type": "application/x-www-form-urlencoded"}})
          .then(r => done(r.status), e => done(String(e)));
    """
    return lambda d: int(d.execute_async_script(script, path, body))


async def state_of(jobs: BroadcastQueries) -> str:
    status = await jobs.status()
    assert status is not None
    return status.state


async def status_of(url: str) -> int:
    """The HTTP status of a GET with no cookie, redirects not followed."""
    async with aiohttp.ClientSession() as client, client.get(url, allow_redirects=False) as got:
        return got.status


async def test_an_operator_sees_the_console_in_a_browser(
    tmp_path: Path, mini: DialogSet, browser: Browser
) -> None:
    emulator = BotApiEmulator()
    # the browser keeps real time: a cookie dated by the bot's clock must not look stale
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    async with console_bot(emulator, tmp_path / "c.db", mini, clock) as app:
        # a known history: three people start, two go on, one of those types what no
        # node understands
        for person in PEOPLE:
            await say(emulator, person, "/start")
        zoe, sam, lea = PEOPLE
        await press(emulator, zoe, "M'informer")
        await say(emulator, zoe, LOST)
        await press(emulator, sam, "Inform me")
        await press(emulator, sam, "Living hidden")

        port = app.bot_data["console_port"]
        link = await console_link(emulator)
        assert link.startswith(f"http://127.0.0.1:{port}/login/")
        base = link.partition("/login/")[0]

        # logged in: the funnel, with the known figures
        assert await visit(browser, link) == "funnel"
        assert await browser.run(lambda d: d.current_url) == f"{base}/"
        started = await text_of(browser, '[data-figure="started"]')
        # the operator wrote to the bot too (/console): a person like any other
        assert re.sub(r"\D", "", started) == str(len(PEOPLE) + 1), started
        browser.screenshot("funnel")
        french = await text_of(browser, "main")
        assert await visit(browser, f"{base}/?lang=en") == "funnel"
        assert await text_of(browser, "main") != french  # the interface speaks English
        browser.screenshot("funnel-en")
        await visit(browser, f"{base}/?lang=fr")

        # the map, one node and its texts in both languages
        assert await visit(browser, f"{base}/map") == "map"
        nodes = await browser.run(
            lambda d: [
                a.get_attribute("data-node")
                for a in d.find_elements(By.CSS_SELECTOR, "a.node-link")
            ]
        )
        assert "informer.hidden" in nodes, nodes
        browser.screenshot("map")

        def open_node(driver: WebDriver) -> str:
            driver.find_element(By.CSS_SELECTOR, 'a.node-link[data-node="informer.hidden"]').click()
            WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "main#node"))
            return driver.current_url

        assert (await browser.run(open_node)).endswith("/node/informer.hidden")
        assert "Je comprends" in await text_of(browser, ".text-fr")
        assert "I understand" in await text_of(browser, ".text-en")
        browser.screenshot("node")

        # what was not understood, the experiments, the versions served
        assert await visit(browser, f"{base}/unknown") == "unknown"
        assert LOST in await text_of(browser, "main")
        browser.screenshot("unknown")
        assert await visit(browser, f"{base}/experiments") == "experiments"
        browser.screenshot("experiments")
        assert await visit(browser, f"{base}/versions") == "versions"
        browser.screenshot("versions")

        # a broadcast that stays running (the bot's pace: one person every 100 s):
        # paused, then resumed, each confirmed
        jobs: BroadcastQueries = app.bot_data["vie"].conversations.store.broadcasts
        texts = {"fr": "Des nouvelles.", "en": "Some news."}
        started_job = await jobs.start(OPERATOR.id, texts, "fr", 0.01, clock.now())
        assert started_job.result == "started", started_job
        assert await visit(browser, f"{base}/broadcasts") == "broadcasts"
        assert await browser.run(shown_state) == "running"
        browser.screenshot("broadcast-running")
        await confirm(browser, "pause", "paused")
        assert await state_of(jobs) == "paused"
        browser.screenshot("broadcast-paused")
        await confirm(browser, "resume", "running")
        assert await state_of(jobs) == "running"
        browser.screenshot("broadcast-resumed")

        # a changing request without the CSRF token, or with a forged one: 403, nothing
        # changed
        for body in ("", "csrf=forged"):
            assert await browser.run(post("/broadcasts/pause", body)) == 403
        assert await state_of(jobs) == "running"

        # the same link again, and a fresh one once its minutes have passed: refused
        assert await status_of(link) == 403
        assert await visit(browser, link) == "refused"
        browser.screenshot("refused-reused")
        late = await console_link(emulator)
        assert late != link
        clock.advance(timedelta(minutes=11))
        assert await status_of(late) == 403
        assert await visit(browser, late) == "refused"
        browser.screenshot("refused-expired")

        # anyone else: /console is an unknown command
        assert await say(emulator, lea, "/console") == "Commande inconnue\xa0: /console"

"""Shared fixtures: real dialog sets, a real SQLite file in a temp dir, a chat harness."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web

from bot.app.bootstrap import standard_features
from bot.core.dialogset import DialogSet
from bot.dialogs.load import load_dialogs
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore, open_store
from bot.testing import ChatHarness, FakeClock

ROOT = Path(__file__).resolve().parent.parent


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop database threads a failing test left open: aiosqlite's worker thread is not a
    daemon, so one leaked connection would keep the test run from ever exiting."""
    import gc
    import warnings

    import aiosqlite

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for leaked in [o for o in gc.get_objects() if isinstance(o, aiosqlite.Connection)]:
            leaked.stop()


MINI = ROOT / "tests" / "fixtures" / "mini"
BUNDLED = ROOT / "dialogs"
LANGS = ("fr", "en")


@pytest.fixture(scope="session")
def mini() -> DialogSet:
    return load_dialogs(MINI, LANGS, "welcome", standard_features())


@pytest.fixture(scope="session")
def bundled() -> DialogSet:
    return load_dialogs(BUNDLED, LANGS, "welcome", standard_features())


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = await open_store(tmp_path / "vie.db")
    yield s
    await s.close()


HarnessFactory = Callable[..., Awaitable[ChatHarness]]


@pytest.fixture
def make_harness(store: SqliteStore, mini: DialogSet) -> HarnessFactory:
    """Build a harness: `await make_harness(dialogs=..., user_id=..., lang=...)`."""
    clock = FakeClock()

    async def make(
        dialogs: DialogSet | None = None, user_id: int = 1, lang: str = "fr", name: str = "Zoé"
    ) -> ChatHarness:
        conversations = Conversations(dialogs or mini, store, "fr")
        return ChatHarness(conversations, Person(user_id, name, lang), clock)

    return make


@asynccontextmanager
async def local_http(
    handle: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[int]:
    """An aiohttp server on 127.0.0.1 and a free port, answering every path with
    `handle`; yields the port."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()

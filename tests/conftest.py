"""Shared fixtures: real dialog sets, a real SQLite file in a temp dir, a chat harness."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest
from aiohttp import web

from bot.app.bootstrap import standard_features
from bot.core.dialogset import DialogSet
from bot.dialogs.load import load_dialogs
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore, SqlStore, open_sqlite, open_store
from bot.store.opening import migrations
from bot.store.pg_opening import pg_migrations
from bot.testing import ChatHarness, FakeClock, pgserver
from bot.testing.browser import Browser, NoBrowser, start_browser

ROOT = Path(__file__).resolve().parent.parent

# Secrets as real ones look: every test that runs a bot uses these, and no log line of
# the whole suite may show them (`no_secret_in_the_logs`).
TOKEN = "7000000001:AAE-vie-coach-test-token-Q1w2E3r4T5y6"
WEBHOOK_SECRET = "vie-coach-webhook-secret-Z9x8C7v6"
SECRETS = (TOKEN, TOKEN.partition(":")[2], WEBHOOK_SECRET)
_TOKEN_SHAPE = re.compile(r"\b\d{5,12}:[A-Za-z0-9_-]{30,}")


class SecretWatch(logging.Handler):
    """On the root logger for the whole run: notes every log line (exception text
    included) that shows a secret or anything shaped like a bot token."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        if shows_a_secret(text):
            self.leaks.append(text[:300])


_WATCH = SecretWatch()


def shows_a_secret(text: str) -> bool:
    """The test token or secret, or anything shaped like a bot token."""
    return any(secret in text for secret in SECRETS) or bool(_TOKEN_SHAPE.search(text))


def pytest_configure(config: pytest.Config) -> None:
    # Nothing is protected here: the bot's own start-up must do it (build_application);
    # tests that drive a bare PTB Bot protect a token of their own (tests/test_botapi.py).
    root = logging.getLogger()
    root.addHandler(_WATCH)
    # INFO and up from every library, as a bot logs by default (httpx's request lines
    # name the URL, token included, unless redacted)
    root.setLevel(min(root.level, logging.INFO) or logging.INFO)


@pytest.fixture(autouse=True)
def no_secret_in_the_logs() -> Iterator[None]:
    """Every test: nothing it logged shows the token or the webhook secret."""
    start = len(_WATCH.leaks)
    yield
    leaked = _WATCH.leaks[start:]
    assert not leaked, f"{len(leaked)} log line(s) show a secret, e.g. {leaked[0]!r}"


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
    s = await open_sqlite(tmp_path / "vie.db")
    yield s
    await s.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.PgServer]:
    """One throwaway PostgreSQL server for the whole run (bot/testing/pgserver.py). With
    CI=true a machine without one fails the tests that need it; elsewhere they skip."""
    try:
        server = pgserver.start()
    except pgserver.NoPostgres as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL: {exc}")
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A headless Chromium (bot/testing/browser.py); screenshots go to
    artefacts/screenshots/. With CI=true a machine without one fails the tests that need
    it; elsewhere they skip."""
    try:
        started = start_browser(ROOT / "artefacts" / "screenshots")
    except NoBrowser as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs Chromium: {exc}")
        pytest.skip(str(exc))
    yield started
    started.quit()


@pytest.fixture
def pg_url(pg_server: pgserver.PgServer) -> Iterator[str]:
    """A new empty database on the run's server, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.url(name)
    with psycopg.connect(pg_server.url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    """The same test on each store: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        s: SqlStore = await open_sqlite(tmp_path / "vie.db")
    else:
        s = await open_store(request.getfixturevalue("pg_url"))
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


def sqlite_at(path: Path, last: int) -> sqlite3.Connection:
    """A SQLite file of schema version `last` (migrations up to it, each in its own
    transaction, as the store runs them), foreign keys on: an older database to write a
    history into before the store migrates it further."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys = ON")
    for version, sql in migrations():
        if version <= last:
            db.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
    return db


def postgresql_at(db: psycopg.Connection[tuple[object, ...]], last: int) -> None:
    """The PostgreSQL schema of version `last` in `db` (autocommit), recorded in
    vie_schema as the store records it."""
    db.execute("CREATE TABLE vie_schema (version integer NOT NULL)")
    for version, sql in pg_migrations():
        if version <= last:
            db.execute(sql.encode("utf-8"))
            db.execute("INSERT INTO vie_schema (version) VALUES (%s)", (version,))

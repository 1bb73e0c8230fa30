"""The log: no secret in any line whatever library wrote it, nothing a person wrote even
at DEBUG, JSON lines on request, and one line with its own exit code per start-up failure."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
from pathlib import Path

import pytest

from bot.app import logs
from bot.app.startup import Exit
from bot.testing.botapi import BotApiEmulator, FakeUser, serve

from .conftest import _WATCH, MINI, TOKEN, WEBHOOK_SECRET
from .processes import until, vie_coach

pytestmark = pytest.mark.timeout(90)
ZOE = FakeUser(4242, "Zoé", "fr")
WRITTEN = "Mon-petit-secret-de-famille"  # what a person typed: never in a log line


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.getLogRecordFactory()("x", logging.ERROR, __file__, 1, message, args, exc_info)


def test_secrets_are_removed_from_message_arguments_and_tracebacks() -> None:
    logs.protect(TOKEN, WEBHOOK_SECRET, None, "")
    line = record("GET https://api.telegram.org/bot%s/getMe secret=%s", TOKEN, WEBHOOK_SECRET)
    assert line.getMessage() == (
        f"GET https://api.telegram.org/bot{logs.REDACTED}/getMe secret={logs.REDACTED}"
    )
    key = TOKEN.partition(":")[2]
    try:
        raise RuntimeError(f"The token `{key}` was rejected by the server.")
    except RuntimeError as exc:
        failed = record("start failed", exc=exc)
    text = logging.Formatter().format(failed)
    assert key not in text and "rejected by the server" in text and "Traceback" in text
    assert logs.redact(f"a {TOKEN} b") == f"a {logs.REDACTED} b"


def test_the_watch_over_the_suite_sees_a_token_that_escaped() -> None:
    """The check every test ends with (conftest) would catch a leak: a record made without
    the redacting factory, as a library with a handler of its own could."""
    leaked = logging.LogRecord("x", logging.INFO, __file__, 1, "url /bot%s/", (TOKEN,), None)
    before = len(_WATCH.leaks)
    _WATCH.emit(leaked)
    assert len(_WATCH.leaks) == before + 1
    del _WATCH.leaks[before:]  # seen: not this test's failure


def test_json_lines_and_levels_in_any_case() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        logs.configure("info", "json", stream)
        logging.getLogger("bot.somewhere").info("ready with %d flows", 5)
        logging.getLogger("httpx").info("HTTP Request: POST /bot%s/getMe", TOKEN)  # quiet
        logging.getLogger("apscheduler.executors").info("Running job")  # quiet
        assert logging.getLogger("telegram.Bot").level == logging.INFO
        logs.configure("Debug", "text", stream)
        assert logging.getLogger("telegram.Bot").level == logging.INFO  # payloads
        assert logging.getLogger("httpx").level == logging.DEBUG
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name in (*logs.NOISY, *logs.PAYLOADS):
            logging.getLogger(name).setLevel(logging.NOTSET)
    (line,) = [json.loads(raw) for raw in stream.getvalue().splitlines()]
    assert line["message"] == "ready with 5 flows"
    assert line["level"] == "INFO" and line["logger"] == "bot.somewhere" and "time" in line
    assert logs.normal_level("warn") == "WARNING"


# -- the real command, at DEBUG, against the emulator ----------------------------------
def config_file(tmp_path: Path, base_url: str, extra: str = "") -> Path:
    path = tmp_path / "vie.toml"
    path.write_text(
        f'[bot]\ndialogs = "{MINI}"\n[store]\npath = "{tmp_path / "logs.db"}"\n'
        f'[telegram]\nbase_url = "{base_url}"\n{extra}[ops]\nport = 0\n',
        encoding="utf-8",
    )
    return path


def assert_clean(log: str) -> None:
    key = TOKEN.partition(":")[2]
    for secret in (TOKEN, key, WEBHOOK_SECRET, WRITTEN):
        assert secret not in log, f"{secret[:12]}… is in the log"


async def test_a_refused_token_at_debug_is_one_line_without_the_token(tmp_path: Path) -> None:
    emulator = BotApiEmulator(token="7000000002:AAE-the-only-token-this-server-knows-0")
    async with serve(emulator) as url:
        cfg = config_file(tmp_path, url)
        async with vie_coach("run", "--config", str(cfg), "--log-level", "debug") as (p, lines):
            assert await asyncio.wait_for(p.wait(), 30) == Exit.TOKEN
    log = "".join(lines)
    assert_clean(log)
    assert "Traceback" not in log
    assert log.strip().splitlines()[-1].startswith("vie-coach: Telegram refused the bot token")


async def test_no_network_at_start_is_one_line(tmp_path: Path) -> None:
    cfg = config_file(tmp_path, "http://127.0.0.1:9/bot")  # nothing listens on port 9
    async with vie_coach("run", "--config", str(cfg)) as (process, lines):
        assert await asyncio.wait_for(process.wait(), 60) == Exit.NETWORK
    log = "".join(lines)
    assert_clean(log)
    # a few quick retries (a network coming up at boot), each one line, then the reason
    assert "Traceback" not in log and len(log.strip().splitlines()) <= 8, log
    last = log.strip().splitlines()[-1]
    assert last.startswith("vie-coach: cannot reach Telegram at http://127.0.0.1:9 ")


async def test_a_whole_run_at_debug_never_logs_the_token_nor_what_people_wrote(
    tmp_path: Path,
) -> None:
    emulator = BotApiEmulator(token=TOKEN)
    async with serve(emulator) as url:
        cfg = config_file(tmp_path, url)
        args = ("run", "--config", str(cfg), "--log-level", "DEBUG")
        async with vie_coach(*args) as (process, lines):
            await until(lambda: any("serving @" in line for line in lines), 30, "started")
            emulator.user_message(ZOE, "/start")
            emulator.user_message(ZOE, WRITTEN)
            await until(lambda: len(emulator.sent_to(ZOE.id)) >= 2, 20, "answered")
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 20) == 0
    log = "".join(lines)
    assert_clean(log)
    assert "HTTP Request: POST" in log and logs.REDACTED in log  # httpx at DEBUG, redacted
    assert "Traceback" not in log
    summary = next(line for line in lines if "serving @" in line)
    assert "polling mode" in summary and str(MINI) in summary and "logs.db" in summary


async def test_a_second_instance_on_the_same_database_is_refused(tmp_path: Path) -> None:
    emulator = BotApiEmulator(token=TOKEN)
    async with serve(emulator) as url:
        cfg = config_file(tmp_path, url)
        async with vie_coach("run", "--config", str(cfg)) as (first, lines):
            await until(lambda: any("serving @" in line for line in lines), 30, "started")
            async with vie_coach("run", "--config", str(cfg)) as (second, refused):
                assert await asyncio.wait_for(second.wait(), 30) == Exit.LOCKED
            emulator.user_message(ZOE, "/start")  # the first one still serves
            await until(lambda: bool(emulator.sent_to(ZOE.id)), 20, "answered")
    (line,) = [line for line in refused if line.strip()]
    assert f"pid {first.pid}" in line and "logs.db is already served" in line


async def test_a_bad_setting_and_a_taken_port_are_one_line_each(tmp_path: Path) -> None:
    import socket

    emulator = BotApiEmulator(token=TOKEN)
    async with serve(emulator) as url:
        cfg = config_file(tmp_path, url, extra="overall_per_second = -3\n")
        async with vie_coach("run", "--config", str(cfg)) as (process, lines):
            assert await asyncio.wait_for(process.wait(), 30) == Exit.CONFIG
        (line,) = [line for line in lines if line.strip()]
        assert "telegram.overall_per_second = -3" in line and f"(from {cfg})" in line
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            cfg = config_file(tmp_path, url)
            cfg.write_text(cfg.read_text().replace("port = 0", f"port = {port}"))
            async with vie_coach("run", "--config", str(cfg)) as (process, lines):
                assert await asyncio.wait_for(process.wait(), 30) == Exit.PORT
    last = "".join(lines).strip().splitlines()[-1]
    assert last.startswith(f"vie-coach: cannot serve /healthz and /metrics on 127.0.0.1:{port}")


async def test_a_taken_webhook_port_exits_at_once_and_frees_the_database(tmp_path: Path) -> None:
    import socket

    emulator = BotApiEmulator(token=TOKEN)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with serve(emulator) as url:
            hook = (f'mode = "webhook"\nwebhook_url = "https://example.org/hook"\n'
                    f'webhook_listen = "127.0.0.1"\nwebhook_port = {port}\n')  # fmt: skip
            cfg = config_file(tmp_path, url, extra=hook)
            async with vie_coach("run", "--config", str(cfg)) as (process, lines):
                assert await asyncio.wait_for(process.wait(), 30) == Exit.PORT
    last = "".join(lines).strip().splitlines()[-1]
    assert last.startswith(f"vie-coach: cannot listen for the webhook on 127.0.0.1:{port}")

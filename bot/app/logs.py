"""The running bot's log: a level, text or JSON lines, quiet libraries, and no secret in
any line, whichever library wrote it.

Secrets are removed where every log record is made (the record factory), not by one
handler's formatter: a record reaches every handler, pytest's capture included, already
clean, with its message and traceback formatted and scrubbed. The factory is process-wide
because logging is; `protect` adds the bot token and the webhook secret to it.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import Any, TextIO

REDACTED = "[redacted]"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Libraries that write a line per request or per tick at INFO: useful only when debugging.
NOISY = ("httpx", "httpcore", "apscheduler", "aiohttp.access")
# Libraries whose DEBUG lines carry payloads (the texts people send and receive, SQL
# parameters): held at INFO even at DEBUG, because no line may hold what a person wrote.
PAYLOADS = ("telegram.Bot", "telegram.ext.ExtBot", "telegram.ext.Application", "aiosqlite")
_MIN_SECRET = 6  # shorter strings are too common to replace wherever they appear


class Redactor:
    """A log record factory around the previous one: each record leaves it with its
    message (and traceback, stack) formatted and every known secret replaced."""

    def __init__(self, make: Callable[..., logging.LogRecord]) -> None:
        self._make = make
        self.secrets: tuple[str, ...] = ()

    def add(self, secrets: Iterable[str | None]) -> None:
        found = set(self.secrets)
        for secret in secrets:
            if not secret:
                continue
            found.add(secret)
            # A bot token is "<bot id>:<key>": the id is public, the key alone is the secret.
            _, colon, key = secret.partition(":")
            if colon and len(key) >= _MIN_SECRET:
                found.add(key)
        # the longest first, so that a token is replaced whole rather than only its key
        self.secrets = tuple(sorted((s for s in found if len(s) >= _MIN_SECRET), key=len)[::-1])

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def _dirty(self, text: str) -> bool:
        return any(secret in text for secret in self.secrets)

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._make(*args, **kwargs)
        if self.secrets:
            self.clean(record)
        return record

    def clean(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: logging reports it when a handler formats it
            return
        # formatted once, here: the handler then has nothing left to format
        record.msg, record.args = self.scrub(message) if self._dirty(message) else message, None
        if record.exc_info and record.exc_info[1] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            if self._dirty(text):
                # formatted now, scrubbed; handlers print exc_text when exc_info is gone
                record.exc_text, record.exc_info = self.scrub(text), None
        if record.stack_info and self._dirty(record.stack_info):
            record.stack_info = self.scrub(record.stack_info)


def _redactor() -> Redactor:
    factory = logging.getLogRecordFactory()
    if isinstance(factory, Redactor):
        return factory
    redactor = Redactor(factory)
    logging.setLogRecordFactory(redactor)
    return redactor


def protect(*secrets: str | None) -> None:
    """From now on, no log record of this process holds any of `secrets`."""
    _redactor().add(secrets)


def redact(text: str) -> str:
    """`text` without the secrets `protect` knows (for messages printed, not logged)."""
    return _redactor().scrub(text)


def normal_level(name: str) -> str:
    """A level name in any case (`debug`, `Info`), as logging spells it."""
    upper = name.strip().upper()
    if upper == "WARN":
        upper = "WARNING"
    return upper


def formatter(fmt: str) -> logging.Formatter:
    """Text lines for a terminal or journald; JSON lines (python-json-logger) for a log
    collector: one object per line with time, level, logger and message."""
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    return logging.Formatter(TEXT_FORMAT)


class CleanHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Scrubs the finished line too: fields a library passes in `extra` (aiohttp's
    access log gives the request line so) join the record after the factory made it."""

    def format(self, record: logging.LogRecord) -> str:
        return _redactor().scrub(super().format(record))


_FORMAT: list[str] = []  # the format `configure` chose, if it ran


def json_lines() -> bool:
    """Whether the process logs JSON lines (then a last error is one, too)."""
    return _FORMAT[-1:] == ["json"]


def configure(level: str, fmt: str = "text", stream: TextIO | None = None) -> None:
    """The process's logging: one handler on the root logger, at `level`, libraries quiet."""
    level = normal_level(level)
    _FORMAT[:] = [fmt]
    handler = CleanHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    debugging = level == "DEBUG"
    for name in NOISY:
        logging.getLogger(name).setLevel(level if debugging else "WARNING")
    for name in PAYLOADS:
        logging.getLogger(name).setLevel("INFO" if debugging else level)
    logging.captureWarnings(True)
    _redactor()

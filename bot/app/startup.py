"""Why the bot could not start, in one line, and the exit code a supervisor sees.

A traceback helps the developer of a library, not the operator of a bot: every failure
that has a known cause (no network, a rejected token, a bad configuration, a database
served by another process) becomes one sentence saying what to do, with its own code.
The line never holds the token: PTB quotes it in its "token rejected" error.
"""

from __future__ import annotations

import enum

from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.app import logs
from bot.errors import ConfigError, DialogError, PortBusy, StoreError, StoreLocked


class Exit(enum.IntEnum):
    """`vie-coach run`'s exit codes (docs/deploy.md lists them)."""

    OK = 0
    UNEXPECTED = 1  # a bug: the traceback is logged
    CONFIG = 2  # the configuration or the command line is wrong
    DIALOGS = 3  # the dialog files have errors (the checker's report is printed)
    TOKEN = 4  # Telegram refused the token
    NETWORK = 5  # Telegram (telegram.base_url) could not be reached
    LOCKED = 6  # another process serves this database
    STORE = 7  # the database cannot be opened or migrated
    PORT = 8  # the webhook or ops port is taken
    TELEGRAM = 9  # Telegram refused a start-up call (setWebhook…)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as a shell reports it)


def explain(exc: BaseException, base_url: str = "") -> tuple[Exit, str] | None:
    """The exit code and the one line for a known start-up failure; None for a bug."""
    where = base_url.removesuffix("/bot") or "the Bot API server"
    if isinstance(exc, InvalidToken):
        return Exit.TOKEN, (
            "Telegram refused the bot token (TELEGRAM_BOT_TOKEN): copy it again from "
            "@BotFather (/mybots, API Token); a revoked token must be replaced"
        )
    if isinstance(exc, NetworkError):  # TimedOut included
        return Exit.NETWORK, (
            f"cannot reach Telegram at {where} ({type(exc).__name__}: {logs.redact(str(exc))}): "
            "check the network, a proxy or firewall, and telegram.base_url"
        )
    if isinstance(exc, TelegramError):
        return Exit.TELEGRAM, f"Telegram refused a start-up call: {logs.redact(str(exc))}"
    if isinstance(exc, StoreLocked):
        return Exit.LOCKED, str(exc)
    if isinstance(exc, StoreError):
        return Exit.STORE, str(exc)
    if isinstance(exc, ConfigError):
        return Exit.CONFIG, str(exc)
    if isinstance(exc, DialogError):
        return Exit.DIALOGS, str(exc)
    if isinstance(exc, PortBusy):
        return Exit.PORT, str(exc)
    return None

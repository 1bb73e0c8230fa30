"""What every `vie-coach` command shares: the configuration, the dialog folder, one-line
failures with their exit codes, and running a coroutine."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from bot.app import bootstrap, logs
from bot.app.config import Config, find_config
from bot.app.startup import Exit, explain
from bot.core.dialogset import DialogSet
from bot.errors import DialogError, VieError


def fail(code: Exit, message: str) -> NoReturn:
    """One line on stderr, without any secret, and the exit code for that cause (a JSON
    line when the log is JSON: a collector reads one format)."""
    if logs.json_lines():
        logging.getLogger("bot").critical("%s (exit %d)", message, int(code))
    else:
        click.echo(f"vie-coach: {logs.redact(message)}", err=True)
    sys.exit(int(code))


def config_of(path: str | None) -> Config:
    logs.protect(
        os.environ.get("TELEGRAM_BOT_TOKEN"), os.environ.get("VIE_TELEGRAM_WEBHOOK_SECRET")
    )
    try:
        config = find_config(path, os.environ)
    except VieError as exc:
        fail(Exit.CONFIG, str(exc))
    logs.protect(config.telegram.webhook_secret)
    for warning in config.warnings:
        click.echo(f"vie-coach: warning: {warning}", err=True)
    return config


def folder_of(config: Config, explicit: Path | None) -> tuple[Path, str]:
    try:
        return bootstrap.dialog_folder(config, explicit)
    except VieError as exc:
        fail(Exit.CONFIG, str(exc))


def load_checked(config: Config, directory: Path | None = None) -> DialogSet:
    """Load the dialogs or raise DialogError (the bot never starts on a bad set)."""
    dialogs, problems = bootstrap.check(config, directory)
    if dialogs is None:
        raise DialogError(problems)
    return dialogs


def run_async(coro: object) -> None:
    try:
        asyncio.run(coro)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        click.echo("\nBye!")
        sys.exit(int(Exit.INTERRUPTED))
    except VieError as exc:
        known = explain(exc)
        fail(*(known or (Exit.UNEXPECTED, str(exc))))

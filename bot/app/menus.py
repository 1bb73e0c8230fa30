"""Telegram's command menus: one per language for everyone, and the operators' own.

Every description is a `cmd_<name>` message (written in dialogs/messages.yaml like every
sentence of the bot). The operators (`telegram.admins`) get, in their chat only
(`BotCommandScopeChat`), the same menu followed by the commands only they may use
(/stats, /unknown, /reload, /broadcast): nobody else ever sees those.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application

from bot.app.config import Config
from bot.core.dialogset import DialogSet
from bot.core.render import to_plain
from bot.core.state import new_state
from bot.core.turn import render_message

log = logging.getLogger(__name__)
App = Application[Any, Any, Any, Any, Any, Any]


def command_menu(
    dialogs: DialogSet, lang: str, now: datetime, *, operator: bool = False
) -> list[tuple[str, str]]:
    """Each feature's commands, in the features' order; with `operator`, then the
    commands only the operators may use."""
    person = new_state(0, lang, now)
    names = [name for feature in dialogs.features for name in feature.menu]
    if operator:
        names += [name for feature in dialogs.features for name in feature.admin_menu]
    return [
        (name, to_plain(render_message(dialogs, person, f"cmd_{name}", now))[:256])
        for name in names
    ]


async def set_menus(app: App, dialogs: DialogSet, config: Config, now: datetime) -> None:
    """One menu per language, and the default language's for everyone else (a Telegram
    in German would otherwise show no menu at all); then each operator's."""
    for lang in (*dialogs.languages, None):
        commands = command_menu(dialogs, lang or config.bot.default_language, now)
        await app.bot.set_my_commands([BotCommand(k, v) for k, v in commands], language_code=lang)
    await set_operator_menus(app, dialogs, config.telegram.admins, config, now)


async def set_operator_menus(
    app: App, dialogs: DialogSet, admins: Sequence[int], config: Config, now: datetime
) -> None:
    """The operators' menu in each of their chats, in every language. An operator who
    never wrote to the bot has no chat with it yet: Telegram refuses, and the menu comes
    at the next start or reload (said once in the log, by id only)."""
    if not any(f.admin_menu for f in dialogs.features):
        return
    for admin in admins:
        scope = BotCommandScopeChat(admin)
        try:
            for lang in (*dialogs.languages, None):
                commands = command_menu(
                    dialogs, lang or config.bot.default_language, now, operator=True
                )
                await app.bot.set_my_commands(
                    [BotCommand(k, v) for k, v in commands], scope=scope, language_code=lang
                )
        except TelegramError as exc:
            log.warning("no operator menu for %s yet (%s): it comes at the next start", admin, exc)

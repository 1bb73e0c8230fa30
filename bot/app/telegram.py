"""The PTB Application: long polling by default, webhook mode from the configuration."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter
from telegram.request import BaseRequest

from bot.adapters.telegram.handlers import TelegramBot
from bot.adapters.telegram.ordering import PerUserUpdateProcessor
from bot.adapters.telegram.ratelimit import SendLimiter
from bot.adapters.telegram.webhook import webhook_app
from bot.app.bootstrap import features_for, with_features
from bot.app.config import Config
from bot.core.dialogset import DialogSet
from bot.core.render import to_plain
from bot.core.state import new_state
from bot.core.turn import render_message
from bot.runtime.clock import utc_now
from bot.runtime.conversation import Conversations
from bot.runtime.dispatcher import NudgeDispatcher, start_scheduler
from bot.store import open_store

log = logging.getLogger(__name__)
App = Application[Any, Any, Any, Any, Any, Any]


def command_menu(dialogs: DialogSet, lang: str, now: datetime) -> list[tuple[str, str]]:
    """Telegram's command menu: each feature's commands, described by its `cmd_<name>`
    message (written in dialogs/messages.yaml like every sentence of the bot)."""
    person = new_state(0, lang, now)
    return [
        (name, to_plain(render_message(dialogs, person, f"cmd_{name}", now))[:256])
        for feature in dialogs.features
        for name in feature.menu
    ]


def limiter_for(config: Config) -> SendLimiter:
    tg = config.telegram
    return SendLimiter(
        tg.overall_per_second, tg.per_chat_per_second, tg.per_chat_burst, tg.max_retries
    )


def build_application(
    config: Config,
    dialogs: DialogSet,
    *,
    request: BaseRequest | None = None,
    limiter: BaseRateLimiter[Any] | None = None,
    clock: Callable[[], datetime] = utc_now,
    start_nudges: bool = True,
) -> App:
    """The Application; its store opens in `post_init` and closes in `post_shutdown`.

    The TelegramBot (handlers, conversations, store) is in `app.bot_data["vie"]` once
    started, the nudge dispatcher in `app.bot_data["dispatcher"]`; APScheduler runs it
    unless `start_nudges` is False (tests drive it by hand).
    """

    async def post_init(app: App) -> None:
        # Invitation links name the bot as Telegram knows it (getMe, done by initialize).
        talk = with_features(dialogs, features_for(config, app.bot.username))
        store = await open_store(config.store.path, keep_unknown=config.store.keep_unknown)
        await store.prune(clock())
        bot = TelegramBot(
            Conversations(talk, store, config.bot.default_language, config.links.verifier()),
            clock,
        )
        bot.register(app)
        app.bot_data["vie"] = bot
        n = config.nudges
        dispatcher = NudgeDispatcher(bot.conversations, store, bot.deliver, clock, n.batch, n.lease)
        app.bot_data["dispatcher"] = dispatcher
        if start_nudges:

            async def prune() -> None:
                pruned = await store.prune(clock())
                log.info("dropped %d processed-update keys older than two days", pruned)

            # off the update path: Telegram redelivers for a day, keys are kept two
            housekeeping = [(prune, timedelta(hours=1))]
            app.bot_data["scheduler"] = start_scheduler(dispatcher, n.tick, housekeeping)
        for lang in dialogs.languages:
            commands = command_menu(talk, lang, clock())
            await app.bot.set_my_commands(
                [BotCommand(k, v) for k, v in commands], language_code=lang
            )

    async def post_shutdown(app: App) -> None:
        scheduler = app.bot_data.pop("scheduler", None)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        dispatcher = app.bot_data.pop("dispatcher", None)
        if dispatcher is not None:
            await dispatcher.close()
        bot = app.bot_data.pop("vie", None)
        if bot is not None:
            await bot.store.close()

    builder = (
        ApplicationBuilder()
        .token(config.telegram.token or "0:offline")
        .base_url(config.telegram.base_url)
        .base_file_url(config.telegram.base_file_url)
        .rate_limiter(limiter or limiter_for(config))
        .concurrent_updates(PerUserUpdateProcessor(config.telegram.concurrent_updates))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    return builder.build()


async def serve_webhook(app: App, config: Config, stop: asyncio.Event) -> None:
    """Run in webhook mode until `stop` is set: our HTTP endpoint plus setWebhook."""
    tg = config.telegram
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    runner = web.AppRunner(
        webhook_app(app, tg.webhook_secret, urlparse(tg.webhook_url).path or "/")
    )
    await runner.setup()
    site = web.TCPSite(runner, tg.webhook_listen, tg.webhook_port)
    await site.start()
    try:
        await app.bot.set_webhook(
            tg.webhook_url, secret_token=tg.webhook_secret, allowed_updates=Update.ALL_TYPES
        )
        log.info("webhook mode: listening on %s:%s", tg.webhook_listen, tg.webhook_port)
        await stop.wait()
    finally:
        await runner.cleanup()
        await app.stop()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
        await app.shutdown()


def run_bot(config: Config, dialogs: DialogSet) -> None:
    """Long polling (default) or webhook, until interrupted."""
    app = build_application(config, dialogs)
    if config.telegram.mode == "polling":
        app.run_polling(allowed_updates=Update.ALL_TYPES)
        return

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_webhook(app, config, stop)

    asyncio.run(main())

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
from bot.adapters.telegram.polling import Poller
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
from bot.runtime.inbox import InboxProcessor
from bot.runtime.sender import Sender
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

    Once started, `app.bot_data` holds the TelegramBot (`vie`: handlers, conversations,
    store), the outbox's `sender`, the inbox's `processor` and the nudge `dispatcher`.
    The sender and the processor run as tasks; APScheduler runs the dispatcher unless
    `start_nudges` is False (tests then drive it by hand: `drain`).
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

        async def blocked(chat_id: int) -> None:
            await store.set_blocked(chat_id, True)

        sender = Sender(
            store.outbox, bot.transport, clock=clock,
            max_age=config.telegram.reply_max_age, on_blocked=blocked,
        )  # fmt: skip
        bot.conversations.queued = sender.wake
        processor = InboxProcessor(
            store.inbox, bot.from_inbox, clock=clock,
            concurrency=config.telegram.concurrent_updates,
        )  # fmt: skip
        bot.stored = processor.wake
        n = config.nudges
        dispatcher = NudgeDispatcher(bot.conversations, store, clock, n.batch, n.lease)
        app.bot_data.update(sender=sender, processor=processor, dispatcher=dispatcher)
        app.bot_data["tasks"] = [
            asyncio.create_task(sender.run(), name="sender"),
            asyncio.create_task(processor.run(), name="inbox"),
        ]
        if start_nudges:

            async def prune() -> None:
                pruned = await store.prune(clock())
                log.info("pruned %d old row(s): update ids, unknown texts", pruned)

            # off the update path: Telegram redelivers for a day, ids are kept two
            housekeeping = [(prune, timedelta(hours=1))]
            app.bot_data["scheduler"] = start_scheduler(dispatcher, n.tick, housekeeping)
        for lang in dialogs.languages:
            commands = command_menu(talk, lang, clock())
            await app.bot.set_my_commands(
                [BotCommand(k, v) for k, v in commands], language_code=lang
            )

    async def post_shutdown(app: App) -> None:
        # The dispatcher first: it finishes the batch in hand and takes no more, so that
        # stopping the scheduler (which cancels the jobs still running) cancels nothing.
        dispatcher = app.bot_data.pop("dispatcher", None)
        if dispatcher is not None:
            await dispatcher.close()
        scheduler = app.bot_data.pop("scheduler", None)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        processor = app.bot_data.pop("processor", None)
        if processor is not None:
            await processor.close()
        sender = app.bot_data.pop("sender", None)
        if sender is not None:
            await sender.close()
        for task in app.bot_data.pop("tasks", []):
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        bot = app.bot_data.pop("vie", None)
        if bot is not None:
            await bot.close()

    builder = (
        ApplicationBuilder()
        .token(config.telegram.token or "0:offline")
        .base_url(config.telegram.base_url)
        .base_file_url(config.telegram.base_file_url)
        .rate_limiter(limiter or limiter_for(config))
        .updater(None)  # updates come from our poller or webhook, through the inbox
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:  # getUpdates has a request object of its own
        builder = builder.request(request).get_updates_request(request)
    return builder.build()


async def started(app: App) -> None:
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)


async def stopped(app: App) -> None:
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
    await app.shutdown()


async def serve_polling(app: App, stop: asyncio.Event) -> None:
    """Long polling until `stop` is set; each batch is in the inbox before it is confirmed."""
    await started(app)
    try:
        await app.bot.delete_webhook()  # polling and a webhook exclude each other
        bot: TelegramBot = app.bot_data["vie"]
        poller = Poller(app.bot, bot.inbox, bot.stored, bot.direct, clock=bot.clock)
        app.bot_data["poller"] = poller
        polling = asyncio.create_task(poller.run(), name="polling")
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
        poller.close()
        stopping.cancel()
        if polling.done():
            polling.result()  # a wrong token: raise it
        polling.cancel()
        await asyncio.gather(polling, stopping, return_exceptions=True)
        log.info("polling stopped")
    finally:
        await stopped(app)


async def serve_webhook(app: App, config: Config, stop: asyncio.Event) -> None:
    """Run in webhook mode until `stop` is set: our HTTP endpoint plus setWebhook."""
    tg = config.telegram
    await started(app)
    runner = web.AppRunner(
        webhook_app(
            lambda: app.bot_data["vie"], tg.webhook_secret, urlparse(tg.webhook_url).path or "/"
        )
    )
    await runner.setup()
    site = web.TCPSite(runner, tg.webhook_listen, tg.webhook_port)
    await site.start()
    try:
        await app.bot.set_webhook(
            tg.webhook_url, secret_token=tg.webhook_secret, allowed_updates=Update.ALL_TYPES
        )
        host, port = runner.addresses[0][:2]  # the port really bound (0: any free one)
        log.info("webhook mode: listening on %s:%s", host, port)
        await stop.wait()
    finally:
        await runner.cleanup()
        await stopped(app)


def run_bot(config: Config, dialogs: DialogSet) -> None:
    """Long polling (default) or webhook, until SIGINT or SIGTERM."""
    app = build_application(config, dialogs)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if config.telegram.mode == "polling":
            await serve_polling(app, stop)
        else:
            await serve_webhook(app, config, stop)

    asyncio.run(main())

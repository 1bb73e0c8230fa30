"""The PTB Application: long polling by default, webhook mode from the configuration."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter
from telegram.request import BaseRequest

from bot.adapters.ops import Vitals, serve_ops
from bot.adapters.telegram.handlers import TelegramBot
from bot.adapters.telegram.ratelimit import SendLimiter
from bot.adapters.telegram.webhook import webhook_app
from bot.app import logs
from bot.app.bootstrap import features_for, package_version, with_features
from bot.app.broadcasting import serve_broadcasts
from bot.app.config import Config
from bot.app.console_serving import serve_console, stop_console
from bot.app.menus import set_menus
from bot.app.operator_reports import report_handlers
from bot.app.reload import Reloader
from bot.app.workers import polling_role, sending_role, share_reloads
from bot.core.dialogset import DialogSet
from bot.errors import PortBusy
from bot.runtime.clock import utc_now
from bot.runtime.conversation import Conversations
from bot.runtime.dispatcher import NudgeDispatcher, start_scheduler
from bot.runtime.inbox import InboxProcessor
from bot.runtime.metrics import Metrics
from bot.runtime.roles import Role
from bot.runtime.sender import IN_FLIGHT
from bot.store import open_store
from bot.store.lock import InstanceLock
from bot.store.opening import SqlStore
from bot.store.postgres import PgStore

log = logging.getLogger(__name__)
App = Application[Any, Any, Any, Any, Any, Any]


def limiter_for(config: Config, metrics: Metrics | None = None) -> SendLimiter:
    tg = config.telegram
    return SendLimiter(
        tg.overall_per_second, tg.per_chat_per_second, tg.per_chat_burst, tg.max_retries,
        metrics=metrics,
    )  # fmt: skip


def build_application(
    config: Config,
    dialogs: DialogSet,
    *,
    request: BaseRequest | None = None,
    limiter: BaseRateLimiter[Any] | None = None,
    clock: Callable[[], datetime] = utc_now,
    start_nudges: bool = True,
    dialog_source: str = "",
    exclusive: bool = True,
    dialog_folder: Path | None = None,
) -> App:
    """The Application; its store opens in `post_init` and closes in `post_shutdown`.

    Once started, `app.bot_data` holds the TelegramBot (`vie`: handlers, conversations,
    store), the outbox's `sender`, the inbox's `processor`, the nudge `dispatcher`,
    the `metrics` and, when `[ops]` is enabled, `ops_port` (/healthz, /metrics).
    The sender and the processor run as tasks; APScheduler runs the dispatcher unless
    `start_nudges` is False (tests then drive it by hand: `drain`). `dialog_source` says
    where the dialogs came from, for the start-up summary; `exclusive` False when the
    caller already holds the database's instance lock. With a `dialog_folder`, the bot
    reloads it on SIGHUP, on an operator's /reload and, when `bot.watch_dialogs`, when
    its files change (`bot_data["reloader"]`).
    """
    logs.protect(config.telegram.token, config.telegram.webhook_secret, config.console.secret)
    metrics = Metrics()

    async def post_init(app: App) -> None:
        # Invitation links name the bot as Telegram knows it (getMe, done by initialize).
        talk = with_features(dialogs, features_for(config, app.bot.username))
        store = await open_store(
            config.store.target, keep_unknown=config.store.keep_unknown, exclusive=exclusive
        )
        await store.prune(clock())
        bot = TelegramBot(
            Conversations(talk, store, config.bot.default_language, config.links.verifier()),
            clock,
        )
        bot.register(app)
        app.bot_data["vie"] = bot

        async def blocked(chat_id: int) -> None:
            await store.set_blocked(chat_id, True)

        shared = store.locks if isinstance(store, PgStore) else None
        processor = InboxProcessor(
            store.inbox, bot.from_inbox, clock=clock,
            concurrency=config.telegram.concurrent_updates, metrics=metrics, shared=shared,
        )  # fmt: skip
        bot.stored = processor.wake
        n = config.nudges
        dispatcher = NudgeDispatcher(
            bot.conversations, store, clock, n.batch, n.lease, metrics=metrics
        )
        app.bot_data.update(processor=processor, dispatcher=dispatcher, store=store)
        app.bot_data["tasks"] = [asyncio.create_task(processor.run(), name="inbox")]

        def moving() -> None:  # a job started or resumed here: wake the broadcaster, if ours
            broadcaster = app.bot_data.get("broadcaster")
            if broadcaster is not None:
                broadcaster.wake()

        serve_broadcasts(
            bot.conversations, store, config.bot.default_language, config.broadcast.per_second,
            wake=moving,
        )  # fmt: skip
        # the sender and the broadcaster: this worker's once it holds the role (at once
        # on SQLite)
        sending = sending_role(app, config, bot, store, metrics, clock, blocked)
        app.bot_data["roles"] = [sending]
        await sending.begin()
        bot.conversations.carry_out.update(report_handlers(store))  # /stats, /unknown
        if dialog_folder is not None:
            await start_reloads(app, config, dialog_folder, bot.conversations, store, clock)
        if start_nudges:

            async def prune() -> None:
                pruned = await store.prune(clock())
                log.info("pruned %d old row(s): update ids, unknown texts", pruned)

            # off the update path: Telegram redelivers for a day, ids are kept two
            housekeeping = [(prune, timedelta(hours=1))]
            app.bot_data["scheduler"] = start_scheduler(dispatcher, n.tick, housekeeping)
        console = await serve_console(app, config, bot.conversations, store, clock)
        # one menu per language, and the default language's for everyone else (a
        # Telegram in German would otherwise show no menu at all)
        await set_menus(app, talk, config, clock())
        ops = "off"
        if config.ops.enabled:

            def polled() -> datetime | None:
                poller = app.bot_data.get("poller")
                return None if poller is None else poller.last_success

            vitals = Vitals(
                store.backlog, app.bot.get_me, metrics, config.ops.telegram_silence, clock,
                stuck_after=config.ops.stuck_after,
                polled=polled if config.telegram.mode == "polling" else None,
            )  # fmt: skip
            try:
                runner, port = await serve_ops(vitals, config.ops.listen, config.ops.port)
            except OSError as exc:
                raise PortBusy(
                    f"cannot serve /healthz and /metrics on {config.ops.listen}:"
                    f"{config.ops.port} ({exc.strerror or exc}): set ops.port to a free port, "
                    "or ops.enabled = false"
                ) from None
            app.bot_data.update(ops_runner=runner, ops_port=port)
            ops = f"http://{config.ops.listen}:{port}/healthz and /metrics"
        tg = config.telegram
        log.info(
            "VIE Coach %s serving @%s in %s mode; database %s; dialogs %s (%d flows, "
            "version %s); limits %g message(s)/s overall, %g/s per chat (burst %d); ops %s; "
            "console %s",
            package_version(), app.bot.username, tg.mode, store.path,
            dialog_source or "given", len(dialogs.flows), dialogs.version,
            tg.overall_per_second, tg.per_chat_per_second, tg.per_chat_burst, ops, console,
        )  # fmt: skip

    async def post_shutdown(app: App) -> None:
        await stop_console(app)
        await stop_reloads(app)
        roles: list[Role] = app.bot_data.pop("roles", [])
        for role in roles:
            if role.name != "sender":  # polling ends first; the sender after the rest
                await role.end()
        runner = app.bot_data.pop("ops_runner", None)
        if runner is not None:
            await runner.cleanup()
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
        for role in roles:
            if role.name == "sender":
                await role.end()
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
        .rate_limiter(limiter or limiter_for(config, metrics))
        .updater(None)  # updates come from our poller or webhook, through the inbox
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:  # getUpdates has a request object of its own
        builder = builder.request(request).get_updates_request(request)
    else:  # the sender's sends at once, and a few for getMe, menus and answered presses
        builder = builder.connection_pool_size(IN_FLIGHT + 8)
    app = builder.build()
    app.bot_data.update(config=config, metrics=metrics)
    return app


async def started(app: App) -> None:
    """Initialised (getMe) and our pieces running; on a failure half-way, what did start
    is stopped again (an open store would keep the process from exiting)."""
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
    except BaseException:
        await stopped(app)
        raise


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
        failed = asyncio.Event()
        # one worker at a time polls (Telegram answers 409 to a second): the one that
        # holds the role; the others take it over when it goes
        polling = polling_role(app, bot, app.bot_data["store"], failed)
        app.bot_data["roles"].append(polling)
        await polling.begin()
        waits = {asyncio.create_task(stop.wait()), asyncio.create_task(failed.wait())}
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
        task = app.bot_data.get("polling_task")
        if failed.is_set() and task is not None:
            task.result()  # a wrong token: raise it
        await polling.end()
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
    try:
        await runner.setup()
        site = web.TCPSite(runner, tg.webhook_listen, tg.webhook_port)
        try:
            await site.start()
        except OSError as exc:
            raise PortBusy(
                f"cannot listen for the webhook on {tg.webhook_listen}:{tg.webhook_port} "
                f"({exc.strerror or exc}): set telegram.webhook_port to a free port, or "
                "telegram.webhook_listen to an address of this machine"
            ) from None
        await app.bot.set_webhook(
            tg.webhook_url, secret_token=tg.webhook_secret, allowed_updates=Update.ALL_TYPES
        )
        host, port = runner.addresses[0][:2]  # the port really bound (0: any free one)
        log.info("webhook mode: listening on %s:%s", host, port)
        await stop.wait()
    finally:
        await runner.cleanup()
        await stopped(app)


def run_bot(
    config: Config,
    dialogs: DialogSet,
    dialog_source: str = "",
    lock: InstanceLock | None = None,
    dialog_folder: Path | None = None,
) -> None:
    """Long polling (default) or webhook, until SIGINT or SIGTERM, holding the database's
    instance lock (`lock`, taken by the caller before anything else, or taken here)."""
    lock = lock or InstanceLock.for_store(config.store.path, shared=config.store.shared)
    try:
        app = build_application(
            config, dialogs, dialog_source=dialog_source, exclusive=False,
            dialog_folder=dialog_folder,
        )  # fmt: skip
        _serve(app)
    finally:
        lock.release()


def _serve(app: App) -> None:
    config: Config = app.bot_data["config"]

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


async def start_reloads(
    app: App,
    config: Config,
    folder: Path,
    conversations: Conversations,
    store: SqlStore,
    clock: Callable[[], datetime],
) -> None:
    """Reload `folder` on SIGHUP, on /reload and (`bot.watch_dialogs`) on every save."""
    reloader = Reloader(config, folder, conversations, store, conversations.dialogs.features, clock)

    async def menus() -> None:  # the `cmd_*` texts may have changed
        await set_menus(app, conversations.dialogs, config, clock())

    reloader.after_swap = menus
    app.bot_data["reloader"] = reloader
    tasks: set[asyncio.Task[object]] = set()
    app.bot_data["reload_tasks"] = tasks

    def on_hangup() -> None:
        task = asyncio.create_task(reloader.reload("SIGHUP"), name="reload")
        tasks.add(task)  # kept until done: a task nobody holds may be collected
        task.add_done_callback(tasks.discard)

    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, on_hangup)
    await reloader.started()
    conversations.reload = lambda: reloader.reload("/reload")
    share_reloads(app, store, reloader, conversations)  # several workers: all reload
    if config.bot.watch_dialogs:
        stop = asyncio.Event()
        app.bot_data["watch_stop"] = stop
        app.bot_data["tasks"].append(asyncio.create_task(reloader.watch(stop), name="watch"))


async def stop_reloads(app: App) -> None:
    """No more reloads: SIGHUP ignored again (never its default, which ends the process),
    the watcher told to stop, a reload in flight cancelled before the store closes."""
    if app.bot_data.pop("reloader", None) is None:
        return
    asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    stop = app.bot_data.pop("watch_stop", None)
    if stop is not None:
        stop.set()
    listener = app.bot_data.pop("reload_listener", None)
    if listener is not None:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    tasks = app.bot_data.pop("reload_tasks", set())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

"""The roles of a worker (docs/scaling.md): every worker stores the updates it receives
and runs turns (each person's in order, under their lock) and due nudges (claimed with
`SKIP LOCKED`); one worker at a time sends the outbox and paces broadcasts (the
`sender` role), and in polling mode one polls (`poller`). Alone on SQLite, a process
plays every role from the start, as before.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.adapters.telegram.handlers import TelegramBot
from bot.adapters.telegram.polling import Poller
from bot.app.broadcasting import start_broadcasts, stop_broadcasts
from bot.app.config import Config
from bot.app.reload import Reloader
from bot.features.operators.feature import ReloadOutcome
from bot.runtime.metrics import Metrics
from bot.runtime.roles import Role
from bot.runtime.sender import Sender
from bot.store.opening import SqlStore
from bot.store.postgres import PgStore

log = logging.getLogger(__name__)
# How often a worker without a role tries for it: the longest a role stays unplayed
# after its worker died
ROLE_TRY_EVERY = 1.0


def sending_role(
    app: Any,
    config: Config,
    bot: TelegramBot,
    store: SqlStore,
    metrics: Metrics,
    clock: Callable[[], datetime],
    blocked: Callable[[int], Awaitable[None]],
) -> Role:
    """The sender and the broadcaster, started when this worker takes the role (a new
    sender each time: one that stopped does not start again)."""
    shared = isinstance(store, PgStore)

    async def play() -> None:
        sender = Sender(
            store.outbox, bot.transport, clock=clock,
            max_age=config.telegram.reply_max_age, on_blocked=blocked, metrics=metrics,
            shared=shared,
        )  # fmt: skip
        bot.conversations.queued = sender.wake
        app.bot_data["sender"] = sender
        app.bot_data["sender_task"] = asyncio.create_task(sender.run(), name="sender")
        if isinstance(store, PgStore):  # rows other workers commit wake it too
            app.bot_data["outbox_listener"] = store.listen("vie_outbox", sender.wake)
        await start_broadcasts(app, config, bot.conversations, store, sender)

    async def step_down() -> None:
        await stop_broadcasts(app)
        listener = app.bot_data.pop("outbox_listener", None)
        if listener is not None:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
        bot.conversations.queued = lambda: None
        sender: Sender | None = app.bot_data.pop("sender", None)
        if sender is not None:
            await sender.close()
        task = app.bot_data.pop("sender_task", None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    return Role(store.locks, "sender", play, step_down, every=ROLE_TRY_EVERY)


def polling_role(app: Any, bot: TelegramBot, store: SqlStore, failed: asyncio.Event) -> Role:
    """`getUpdates`, in the worker that holds the role; `failed` is set if polling
    stops on its own (a wrong token), which ends the process as before."""

    async def play() -> None:
        poller = Poller(
            app.bot, bot.inbox, bot.stored, bot.direct, clock=bot.clock,
            metrics=app.bot_data["metrics"],
        )  # fmt: skip
        app.bot_data["poller"] = poller
        task = asyncio.create_task(poller.run(), name="polling")
        task.add_done_callback(
            lambda t: failed.set() if not t.cancelled() and t.exception() is not None else None
        )
        app.bot_data["polling_task"] = task

    async def step_down() -> None:
        poller: Poller | None = app.bot_data.pop("poller", None)
        if poller is not None:
            poller.close()
        task = app.bot_data.pop("polling_task", None)
        if task is not None and not task.done():
            task.cancel()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    return Role(store.locks, "poller", play, step_down, every=ROLE_TRY_EVERY)


def share_reloads(app: Any, store: SqlStore, reloader: Reloader, conversations: Any) -> None:
    """An operator's /reload reaches one worker: the others are told (`NOTIFY`) and
    reload too, each checking the files it serves (SIGHUP and the file watcher stay each
    worker's own: `systemctl reload 'vie-coach@*'` tells them all)."""
    if not isinstance(store, PgStore):
        return
    me = f"{socket.gethostname()}:{os.getpid()}"
    tasks: set[asyncio.Task[object]] = app.bot_data.setdefault("reload_tasks", set())

    async def everywhere() -> ReloadOutcome:
        outcome = await reloader.reload("/reload")
        try:
            await store.notify("vie_reload", me)
        except Exception:  # this worker reloaded; the others keep their set, and say so
            log.warning("could not tell the other workers to reload")
        return outcome

    def heard(payload: str) -> None:
        if payload == me:
            return
        task = asyncio.create_task(reloader.reload("/reload (another worker)"), name="reload")
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    conversations.reload = everywhere
    app.bot_data["reload_listener"] = store.listen("vie_reload", lambda: None, heard)

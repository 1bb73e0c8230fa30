"""The console in the running bot: its server on `[console]`'s address, the /console
links the operators receive, and what its buttons do (pause, resume, roll back).

The links are made here because only the app knows the address the browser uses and the
key; the pure feature only asks (`OpenConsole`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.app.config import Config
from bot.app.graph_command import GraphDrawError, dot_available, draw
from bot.app.reload import Reloader
from bot.app.versions_command import RollbackError, restore
from bot.console.access import Access, derived_key
from bot.console.desk import Desk
from bot.console.server import console_app
from bot.core.events import Send
from bot.core.turn import Turn
from bot.errors import PortBusy
from bot.features.operators.console import ConsoleLink, OpenConsole, console_replies
from bot.runtime.conversation import Conversations
from bot.store.console_links import ConsoleLinks
from bot.store.opening import SqlStore

log = logging.getLogger(__name__)
PICTURES = 8  # maps drawn kept: `dot` takes a good part of a second for a large set


def access_for(config: Config) -> Access | None:
    """The console's signer, or None when it has no key (no secret and no token)."""
    key = derived_key(config.console.secret, config.telegram.token)
    if not key:
        return None
    c = config.console
    return Access(
        key, frozenset(config.telegram.admins), timedelta(minutes=c.link_minutes),
        timedelta(hours=c.session_hours),
    )  # fmt: skip


class Drawer:
    """The map's picture: its DOT source made and drawn by `dot` off the event loop,
    the last few kept by what they show (making the source alone takes ~60 ms)."""

    def __init__(self) -> None:
        self._kept: OrderedDict[Hashable, bytes | None] = OrderedDict()

    async def __call__(self, key: Hashable, source: Callable[[], str]) -> bytes | None:
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        try:
            svg: bytes | None = await asyncio.to_thread(lambda: draw(source(), "svg"))
        except GraphDrawError as exc:
            log.warning("console: the map could not be drawn: %s", exc)
            svg = None
        self._kept[key] = svg
        while len(self._kept) > PICTURES:
            self._kept.popitem(last=False)
        return svg


def rollback_for(
    config: Config, store: SqlStore, reloader: Reloader
) -> Callable[[str], Awaitable[str]]:
    async def rollback(version: str) -> str:
        files = await store.versions.files(version)
        if files is None:
            raise RollbackError(f"version {version} was never served here")
        await asyncio.to_thread(restore, config, reloader.folder, version, files)
        outcome = await reloader.reload("rollback (console)")
        if outcome.result == "refused":
            raise RollbackError(
                f"the bot refused the files of version {version}: " + "; ".join(outcome.problems)
            )
        return outcome.version or version

    return rollback


async def serve_console(
    app: Any,
    config: Config,
    conversations: Conversations,
    store: SqlStore,
    clock: Callable[[], datetime],
) -> str:
    """Answer /console, and serve the console when it is enabled: what the start-up line
    says of it."""
    c = config.console
    access = access_for(config) if c.enabled else None
    base: list[str] = []  # known once the server listens
    links = ConsoleLinks(store.write)

    async def open_console(asked: OpenConsole, turn: Turn) -> list[Send]:
        if access is None or not base:
            return console_replies(turn, ConsoleLink(None))
        token, link = access.new_link(turn.state.user_id, turn.now)
        await links.keep(link.nonce_hash, link.admin_id, link.expires)
        log.info("console: a link given to operator %d", link.admin_id)
        return console_replies(turn, ConsoleLink(f"{base[0]}/login/{token}", c.link_minutes))

    conversations.carry_out[OpenConsole] = open_console
    if access is None:
        return "off" if not c.enabled else "off (no key: set console.secret)"

    def moving() -> None:
        broadcaster = app.bot_data.get("broadcaster")
        if broadcaster is not None:
            broadcaster.wake()

    reloader: Reloader | None = app.bot_data.get("reloader")
    desk = Desk(
        store=store,
        dialogs=lambda: conversations.dialogs,
        access=access,
        links=links,
        clock=clock,
        default_language=config.bot.default_language,
        keep_unknown=config.store.keep_unknown,
        secure=c.public_url.startswith("https://"),
        rollback=rollback_for(config, store, reloader) if reloader is not None else None,
        moving=moving,
        draw=Drawer() if dot_available() else None,
    )
    runner = web.AppRunner(console_app(desk), access_log=None)  # addresses hold tokens
    await runner.setup()
    site = web.TCPSite(runner, c.listen, c.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise PortBusy(
            f"cannot serve the console on {c.listen}:{c.port} ({exc.strerror or exc}): set "
            "console.port to a free port, or console.enabled = false"
        ) from None
    port = int(runner.addresses[0][1])
    base.append(c.base_url(port))
    app.bot_data.update(console_runner=runner, console_port=port)
    return f"{c.base_url(port)} (operators: /console)"


async def stop_console(app: Any) -> None:
    runner = app.bot_data.pop("console_runner", None)
    if runner is not None:
        await runner.cleanup()

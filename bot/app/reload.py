"""Hot reload: check the dialog files again and swap the new set in, or keep the old one.

Three things ask for it: an edited file (watchfiles, when `bot.watch_dialogs`), SIGHUP,
and an operator's /reload. Each reload reads the files, checks them completely (the same
checker as start-up), and only a set without errors replaces the one served, in one
assignment between turns. Every version served is kept in the store with its files, so
that `vie-coach rollback` can bring the previous one back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import watchfiles

from bot.app.bootstrap import with_features
from bot.app.config import Config
from bot.core.dialogset import DialogSet
from bot.core.feature import Feature
from bot.dialogs.load import check_directory, dialog_version
from bot.dialogs.moves import moves, report
from bot.dialogs.parse import parse_directory
from bot.errors import Problem
from bot.features.operators.feature import ReloadOutcome
from bot.runtime.conversation import Conversations
from bot.store.opening import SqlStore

log = logging.getLogger(__name__)
PATTERNS = ("*.yaml", "*.yml")  # what the loader reads: the folder's own YAML files


def dialog_files(folder: Path) -> dict[str, str]:
    """The files a dialog set is made of, by name, as the loader reads them."""
    paths = sorted({p for pattern in PATTERNS for p in folder.glob(pattern)})
    return {p.name: p.read_text(encoding="utf-8") for p in paths if p.is_file()}


class Reloader:
    """Reloads the dialogs of one running bot (one at a time)."""

    def __init__(
        self,
        config: Config,
        folder: Path,
        conversations: Conversations,
        store: SqlStore,
        features: tuple[Feature, ...],
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        # as given (a deploy's `current -> releases/N` link is followed at each read);
        # what the watcher reports is the real path
        self.folder = folder.absolute()
        self._real = folder.resolve()
        self.conversations = conversations
        self.store = store
        self.features = features
        self.clock = clock
        self._one_at_a_time = asyncio.Lock()
        # told after each swap (the Telegram menu is written from the dialogs' messages)
        self.after_swap: Callable[[], Awaitable[None]] = _nothing

    async def started(self) -> None:
        """Note the version served at start-up with its files, if the files are still the
        ones it was loaded from; an edit saved since (before the watcher began) is
        reloaded at once instead, so that no version is kept with another's files."""
        files, version = await asyncio.to_thread(self._version_on_disk)
        if version == self.conversations.dialogs.version:
            await self.store.versions.served(version, files, "start", self.clock())
        else:
            await self.reload("edited during start-up")

    def _version_on_disk(self) -> tuple[dict[str, str], str]:
        files = dialog_files(self.folder)
        return files, dialog_version(parse_directory(self.folder))

    async def reload(self, reason: str) -> ReloadOutcome:
        """Check the files and serve them if they have no error; say how it went."""
        async with self._one_at_a_time:
            try:
                return await self._reload(reason)
            except Exception as exc:  # a bug or a store failure: the old set keeps serving
                log.exception("reload (%s) failed; the dialogs served before stay", reason)
                served = self.conversations.dialogs.version
                why = f"the reload failed ({type(exc).__name__}): see the bot's log"
                return ReloadOutcome("refused", served, problems=(why,))

    async def _reload(self, reason: str) -> ReloadOutcome:
        served = self.conversations.dialogs
        try:
            files, dialogs, problems = await asyncio.to_thread(self._load)
        except OSError as exc:
            log.error("reload (%s) refused: cannot read %s (%s)", reason, self.folder, exc)
            return ReloadOutcome("refused", served.version, problems=(f"{self.folder}: {exc}",))
        errors = [p for p in problems if p.severity == "error"]
        if dialogs is None:
            log.error(
                "reload (%s) refused: %d error(s) in %s; version %s stays in service",
                reason, len(errors), self.folder, served.version,
            )  # fmt: skip
            for problem in errors:
                log.error("%s", problem)
            return ReloadOutcome("refused", served.version, problems=tuple(str(p) for p in errors))
        if dialogs.version == served.version:
            log.info(
                "reload (%s): the files have not changed (version %s)", reason, dialogs.version
            )
            return ReloadOutcome("unchanged", dialogs.version)
        who = report(moves(await self.store.versions.standing(), dialogs))
        # recorded first: a set served is always one `vie-coach rollback` knows
        await self.store.versions.served(dialogs.version, files, f"reload ({reason})", self.clock())
        self.conversations.swap(with_features(dialogs, self.features))
        await self.after_swap()
        log.info(
            "dialogs reloaded (%s): version %s -> %s, %d flows, %d warning(s)",
            reason, served.version, dialogs.version, len(dialogs.flows), len(problems),
        )  # fmt: skip
        for line in who:  # node ids and counts: nothing of what anyone wrote
            log.info("reload: %s", line)
        return ReloadOutcome(
            "done", dialogs.version, served.version, tuple(who), warnings=len(problems)
        )

    def _load(self) -> tuple[dict[str, str], DialogSet | None, list[Problem]]:
        """The files and the set checked from them. An editor still saving makes the
        files differ before and after the check: then once more, on what it left."""
        bot = self.config.bot
        for _ in range(3):
            before = dialog_files(self.folder)
            dialogs, problems = check_directory(
                self.folder, bot.languages, bot.entry_flow, self.features
            )
            if dialog_files(self.folder) == before:
                return before, dialogs, list(problems)
        still = Problem(str(self.folder), 0, None, "the files kept changing while they were "
                        "checked: save them, then reload again")  # fmt: skip
        return before, None, [still]

    async def catch_up(self, reason: str) -> None:
        """Reload if the files on disk are not the version served (an edit made while
        nothing was listening); reading them is cheap, checking them is not."""
        _, version = await asyncio.to_thread(self._version_on_disk)
        if version != self.conversations.dialogs.version:
            await self.reload(reason)

    async def watch(self, stop: asyncio.Event) -> None:
        """Reload whenever the folder's YAML files change, until `stop`. watchfiles
        groups the changes of one save (debounced), so a reload sees the whole save. A
        folder removed (a deploy that replaces it whole) is waited for, then watched
        again; SIGHUP and /reload work all the while. Each time the watch begins to
        listen, what was saved before it did is caught up with."""

        def wanted(change: watchfiles.Change, path: str) -> bool:
            """The folder's own YAML files, and the folder itself (removed)."""
            if path == itself:
                return True
            return path.endswith((".yaml", ".yml")) and Path(path).parent == self._real

        missed: str | None = "edited during start-up"
        while not stop.is_set():
            self._real = self.folder.resolve()  # a deploy may have moved its link
            itself = str(self._real)
            try:
                # yield_on_timeout: an empty set once listening, then now and then
                async for changes in watchfiles.awatch(
                    self.folder, watch_filter=wanted, stop_event=stop, recursive=False,
                    yield_on_timeout=True, rust_timeout=LISTEN_MS,
                ):  # fmt: skip
                    if not changes:
                        if missed is not None:
                            await self.catch_up(missed)
                            missed = None
                        continue
                    gone = any(c == watchfiles.Change.deleted and p == itself for c, p in changes)
                    if gone or not self.folder.is_dir():
                        # a watch on a removed folder never hears again, even when a
                        # folder of the same name is back at once (a deploy's rm + copy)
                        break
                    await self.reload("file change")
            except Exception as exc:  # inotify out of watches, a folder unreadable…
                log.error(
                    "cannot watch %s (%s: %s); trying again in %d s, SIGHUP and /reload "
                    "still reload it", self.folder, type(exc).__name__, exc, RETRY_SECONDS,
                )  # fmt: skip
                await _pause(stop, RETRY_SECONDS)
                continue
            if stop.is_set():
                return
            log.warning("%s is gone: waiting for it to come back to watch it again", self.folder)
            while not self.folder.is_dir() and not stop.is_set():
                await _pause(stop, RETRY_SECONDS)
            if not stop.is_set():
                log.info("%s is back: watching it again", self.folder)
                missed = "folder back"


LISTEN_MS = 500  # how often an idle watch wakes up (to catch up, to notice `stop`)
RETRY_SECONDS = 2


async def _nothing() -> None:
    return None


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)

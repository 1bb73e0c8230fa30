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
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import watchfiles

from bot.app.bootstrap import with_features
from bot.app.config import Config
from bot.core.dialogset import DialogSet
from bot.core.feature import Feature
from bot.dialogs.load import check_directory
from bot.dialogs.moves import moves, report
from bot.errors import Problem
from bot.features.operators.feature import ReloadOutcome
from bot.runtime.conversation import Conversations
from bot.store.sqlite import SqliteStore

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
        store: SqliteStore,
        features: tuple[Feature, ...],
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.folder = folder.resolve()
        self.conversations = conversations
        self.store = store
        self.features = features
        self.clock = clock
        self._one_at_a_time = asyncio.Lock()

    async def started(self, files: Mapping[str, str] | None = None) -> None:
        """Note the version served at start-up (its files as they are now)."""
        files = dict(files) if files is not None else dialog_files(self.folder)
        version = self.conversations.dialogs.version
        await self.store.versions.served(version, files, "start", self.clock())

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
        self.conversations.swap(with_features(dialogs, self.features))
        await self.store.versions.served(dialogs.version, files, f"reload ({reason})", self.clock())
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
        for _ in range(3):
            before = dialog_files(self.folder)
            bot = self.config.bot
            dialogs, problems = check_directory(
                self.folder, bot.languages, bot.entry_flow, self.features
            )
            if dialog_files(self.folder) == before:
                break
        return before, dialogs, list(problems)

    async def watch(self, stop: asyncio.Event) -> None:
        """Reload whenever the folder's YAML files change, until `stop`. watchfiles
        groups the changes of one save (debounced), so a reload sees the whole save. A
        folder removed (a deploy that replaces it whole) is waited for, then watched
        again; SIGHUP and /reload work all the while."""

        itself = str(self.folder)

        def wanted(change: watchfiles.Change, path: str) -> bool:
            """The folder's own YAML files, and the folder itself (removed)."""
            if path == itself:
                return True
            return path.endswith((".yaml", ".yml")) and Path(path).parent == self.folder

        while not stop.is_set():
            try:
                async for _changes in watchfiles.awatch(
                    self.folder, watch_filter=wanted, stop_event=stop, recursive=False
                ):
                    if not self.folder.is_dir():
                        break  # a watch on a removed folder would never hear again
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
                await self.reload("folder back")


RETRY_SECONDS = 2


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)

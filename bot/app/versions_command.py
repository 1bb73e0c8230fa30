"""`vie-coach versions` and `vie-coach rollback`: the dialog sets served, and going back.

The running bot keeps every version it served in its database, with its files. A rollback
checks the chosen version again, writes its files back into the dialog folder, and tells
a running bot (SIGHUP: it reloads them, as after any edit); a bot that is not running
serves them at its next start.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import click

from bot import bundled
from bot.app import bootstrap
from bot.app.config import Config
from bot.app.reload import PATTERNS
from bot.core.dialogset import DialogSet
from bot.dialogs.load import check_directory
from bot.dialogs.moves import moves, report
from bot.errors import VieError
from bot.store import open_store
from bot.store.lock import serving_pid
from bot.store.opening import SqlStore
from bot.store.versions import Served


class RollbackError(VieError):
    """No version to go back to, or one that cannot be served."""


async def _versions_store(config: Config, db_path: Path | None) -> SqlStore:
    """The database, read-only: a rollback writes only dialog files."""
    return await open_store(
        db_path or config.store.target, keep_unknown=config.store.keep_unknown, read_only=True
    )


async def history(config: Config, db_path: Path | None, limit: int) -> list[Served]:
    store = await _versions_store(config, db_path)
    try:
        return await store.versions.history(limit)
    finally:
        await store.close()


async def who_moves(config: Config, db_path: Path, dialogs: DialogSet) -> list[str]:
    """The checker's comparison with the live database: who would move where."""
    store = await _versions_store(config, db_path)
    try:
        return report(moves(await store.versions.standing(), dialogs))
    finally:
        await store.close()


def choose(served: list[Served], to: str | None) -> str:
    """The version to go back to: `to`, or the one served before the current one."""
    if not served:
        raise RollbackError(
            "this database has no dialog version yet: `vie-coach run` records each one it serves"
        )
    if to is not None:
        if not any(s.version == to for s in served):
            known = ", ".join(dict.fromkeys(s.version for s in served))
            raise RollbackError(f"version {to} was never served here; served: {known}")
        return to
    current = served[0].version
    for s in served[1:]:
        if s.version != current:
            return s.version
    raise RollbackError(
        f"only version {current} was ever served here: there is nothing to go back to"
    )


async def rollback(config: Config, db_path: Path | None, folder: Path, to: str | None) -> str:
    """Write the chosen version's files into `folder`; the version written."""
    _rewritable(folder)
    store = await _versions_store(config, db_path)
    try:
        version = choose(await store.versions.history(1000), to)
        files = await store.versions.files(version)
    finally:
        await store.close()
    assert files is not None  # every version served has its files (same statement)
    restore(config, folder, version, files)
    return version


def restore(config: Config, folder: Path, version: str, files: dict[str, str]) -> None:
    """Check a version's `files` as a whole set, then make them the folder's YAML files
    (RollbackError, and the folder untouched, when the checker refuses them now)."""
    _rewritable(folder)
    with tempfile.TemporaryDirectory(prefix="vie-rollback-") as scratch:
        for name, text in files.items():
            (Path(scratch) / name).write_text(text, encoding="utf-8")
        bot = config.bot
        checked, problems = check_directory(
            scratch, bot.languages, bot.entry_flow, bootstrap.features_for(config)
        )
    if checked is None:
        errors = "; ".join(str(p) for p in problems if p.severity == "error")[:500]
        raise RollbackError(f"version {version} no longer passes the checker: {errors}")
    _write_back(folder, files)


def _rewritable(folder: Path) -> None:
    if folder.resolve() == bundled.dialogs().resolve():
        raise RollbackError(
            f"{folder} holds the dialogs bundled with the package: they cannot be rolled "
            "back; `vie-coach init` copies them out to a folder you can serve and edit"
        )


def _write_back(folder: Path, files: dict[str, str]) -> None:
    """The folder's YAML files become exactly `files`; each one replaced whole (a reader
    never sees half a file); files of newer versions that it did not have go."""
    folder.mkdir(parents=True, exist_ok=True)
    # every file written aside first, then all swapped in at once: a watching bot sees
    # one burst of changes (one reload), never half the files for long
    aside = {}
    for name, text in files.items():
        aside[name] = folder / f".{name}.rollback"
        aside[name].write_text(text, encoding="utf-8")
    for name, temporary in aside.items():
        os.replace(temporary, folder / name)
    for path in sorted({p for pattern in PATTERNS for p in folder.glob(pattern)}):
        if path.name not in files:
            path.unlink()


def tell_the_bot(database: Path) -> str:
    """SIGHUP to the bot serving `database`, if one is: what happened, in a sentence."""
    pid = serving_pid(database)
    if pid is None:
        return "no bot is serving this database now: it serves these files at its next start"
    if not _is_run(pid):  # `vie-coach chat` holds the lock too; SIGHUP would end it
        return (
            f"the process holding this database (pid {pid}) is not `vie-coach run`: the "
            "files are served at the bot's next start"
        )
    try:
        os.kill(pid, signal.SIGHUP)
    except OSError as exc:
        return f"could not tell the running bot (pid {pid}: {exc.strerror}); send it SIGHUP"
    return f"the running bot (pid {pid}) was told to reload (SIGHUP)"


def _is_run(pid: int) -> bool:
    """Whether `pid` is `vie-coach run` (by its command line, where /proc tells; where
    it does not, assumed so)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True
    return b"run" in args


def print_history(served: list[Served]) -> None:
    if not served:
        click.echo("no dialog version recorded yet: `vie-coach run` records each one it serves")
        return
    click.echo(f"{'version':<10}  {'served from (UTC)':<17}  why")
    for i, s in enumerate(served):
        mark = "  <- serving" if i == 0 else ""
        click.echo(f"{s.version:<10}  {s.at:%Y-%m-%d %H:%M}  {s.reason}{mark}")

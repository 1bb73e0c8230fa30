"""One serving process per database: an exclusive lock on a file beside it.

Two bots on one SQLite file would each trust their own cache of people's states and
overwrite each other's changes (a /stop recorded by one, undone by the other). The lock
is `flock` on `<database>.lock`, which holds the owner's process id: the kernel releases
it when the process ends, however it ends (kill -9 included), so a stale lock never
needs cleaning. Reading tools (`vie-coach unknown`, `poison`, `backup`) do not take it.
"""

from __future__ import annotations

import contextlib
import fcntl  # POSIX: the bot serves from Linux (or macOS)
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.errors import StoreError, StoreLocked


class InstanceLock:
    """Held while a process serves a database; `release` (or process exit) frees it."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def take(cls, database: str | os.PathLike[str]) -> InstanceLock:
        db = Path(database)
        path = db.with_name(db.name + ".lock")
        if str(database) == ":memory:":  # nothing to share: nothing to lock
            return cls(path, None)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the lock file ({exc.strerror})") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            owner = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise StoreLocked(
                f"{db} is already served by another VIE Coach process (pid {owner}): "
                "stop that one first, or give this one its own database (store.path)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return cls(path, fd)

    @classmethod
    def for_store(cls, database: str | os.PathLike[str], *, shared: bool) -> InstanceLock:
        """The lock of a SQLite file; none for a store several workers share."""
        return cls(Path(database), None) if shared else cls.take(database)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        # The file stays: deleting it would let a third process lock a new file while a
        # second still waits on the old one.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor releases the flock


def serving_pid(database: str | os.PathLike[str]) -> int | None:
    """The process id of the VIE Coach holding `database`'s lock now, or None. Read
    without locking (a probe that took the lock, even for an instant, could make a bot
    starting at that moment believe another one serves): the file holds a pid only
    while its owner lives (emptied on release), and a pid left by a `kill -9` is a
    process that no longer exists."""
    db = Path(database)
    try:
        owner = (db.with_name(db.name + ".lock")).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None  # never served from here
    if not owner.isdigit():
        return None
    pid = int(owner)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # it exists, under another user
    return pid


class ProcessLocks:
    """The locks of a store one process serves alone (SQLite): the person's turns are
    already one at a time in the process, and every role is this process's."""

    generation = 0

    @asynccontextmanager
    async def person(self, user_id: int) -> AsyncIterator[None]:
        yield

    async def try_person(self, user_id: int) -> bool:
        return True

    async def try_hold(self, user_id: int) -> bool:
        return True

    async def let_go(self, user_id: int) -> None:
        return None

    async def release_person(self, user_id: int) -> None:
        return None

    async def try_role(self, role: str) -> bool:
        return True

    async def release_role(self, role: str) -> None:
        return None

    async def alive(self) -> bool:
        return True

    async def close(self) -> None:
        return None

"""A throwaway PostgreSQL server for tests and benchmarks: `initdb` in a temporary
folder, `postgres` on 127.0.0.1 on a free port, everything removed when it stops.

`initdb` refuses to run as root: as root, the server runs as an unprivileged user (the
`postgres` account when there is one, else `nobody`). The binaries are looked for in
`$VIE_PG_BIN`, then Debian's /usr/lib/postgresql/<version>/bin, then the PATH.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.errors import VieError


class NoPostgres(VieError):
    """No PostgreSQL server binaries here, or the server would not start."""


def binaries() -> Path:
    """The folder holding `initdb` and `postgres`."""
    wanted = os.environ.get("VIE_PG_BIN")
    candidates = [Path(wanted)] if wanted else []
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    found = shutil.which("postgres")
    if found:
        candidates.append(Path(found).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    raise NoPostgres(
        "no PostgreSQL server here (initdb and postgres): install Debian's postgresql-15, "
        "or set VIE_PG_BIN to the folder holding them"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    """One running server; `url(db)` addresses a database on it as user `vie`."""

    folder: Path
    port: int
    process: subprocess.Popen[bytes]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://vie@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: sessions cut
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


def _runner() -> tuple[int | None, int | None]:
    """The uid and gid to run as: ours, unless we are root."""
    if os.geteuid() != 0:
        return None, None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
    raise NoPostgres("running as root with neither a postgres nor a nobody account")


def start(*, durable: bool = False, timeout: float = 60.0) -> PgServer:
    """Start a new server. `durable`: fsync as in production (benchmarks); tests don't."""
    bindir = binaries()
    uid, gid = _runner()
    folder = Path(tempfile.mkdtemp(prefix="vie-pg-"))
    if uid is not None and gid is not None:
        os.chown(folder, uid, gid)
    data = folder / "data"
    groups: list[int] | None = [] if uid is not None else None  # root's groups: none
    init = subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "vie", "-E", "UTF8",
         "--locale=C.UTF-8", "--no-sync", "--no-instructions"],
        capture_output=True, cwd=folder, check=False, user=uid, group=gid,
        extra_groups=groups,
    )  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        reason = init.stderr.decode("utf-8", "replace").strip().splitlines()
        raise NoPostgres(f"initdb failed: {reason[-1] if reason else init.returncode}")
    for _attempt in range(5):  # a free port may be taken between the look and the bind
        port = _free_port()
        options = ["-c", "max_connections=200", "-c", "shared_buffers=128MB"]
        if not durable:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                        "-c", "full_page_writes=off"]  # fmt: skip
        with open(folder / "server.log", "ab") as server_log:  # the child keeps its copy
            process = subprocess.Popen(
                [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
                 "-k", str(folder), *options],
                stdout=subprocess.DEVNULL, stderr=server_log, cwd=folder,
                start_new_session=True, user=uid, group=gid, extra_groups=groups,
            )  # fmt: skip
        server = PgServer(folder, port, process)
        if _wait_ready(server, timeout):
            return server
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    log = (folder / "server.log").read_text(encoding="utf-8", errors="replace")[-500:]
    shutil.rmtree(folder, ignore_errors=True)
    raise NoPostgres(f"the PostgreSQL server did not start: {log.strip()}")


def _wait_ready(server: PgServer, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", server.port), timeout=1),
        ):
            # the port answers before the server accepts sessions: ask it
            ready = subprocess.run(
                [str(binaries() / "pg_isready"), "-h", "127.0.0.1", "-p", str(server.port),
                 "-U", "vie", "-d", "postgres", "-q"],
                check=False,
            )  # fmt: skip
            if ready.returncode == 0:
                return True
        time.sleep(0.1)
    return False

"""The terminal chat driven as a subprocess with piped standard input."""

from __future__ import annotations

import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .conftest import MINI, ROOT


def chat(db: Path, typed: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.app.cli",
            "chat",
            "--db",
            str(db),
            "--dialogs",
            str(MINI),
            *extra,
        ],
        input=typed,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


def test_piped_chat_prints_numbered_choices_and_presses_them(tmp_path: Path) -> None:
    run = chat(tmp_path / "c.db", "1\nbof\n9\n/quit\n", "--user", "Zoé")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "Bonjour Zoé\u202f!" in out
    assert "  [1] M'informer\n  [2] Au revoir" in out
    assert "> 1\nQu'est-ce qui vous retient\u202f?\n  [1] Vivre caché\n  [2] Retour" in out
    assert "> bof\nJe n'ai pas compris." in out
    assert "(there is no choice [9]; choose 1 to 2)" in out


def test_leaving_and_coming_back_resumes(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "dir" / "c.db"  # folders are created
    first = chat(db, "1\n/quit\n", "--user", "Léa", "--lang", "en")
    assert "What holds you back?" in first.stdout
    again = chat(db, "1\n", "--user", "Léa")  # end of input also leaves
    assert again.returncode == 0, again.stderr
    assert "Welcome back.\n\nWhat holds you back?" in again.stdout
    assert "> 1\nI understand (hidden)." in again.stdout
    other = chat(db, "", "--user", "Sam", "--lang", "en")
    assert "Hello Sam!" in other.stdout, "another name is another person"


def test_output_is_stable(tmp_path: Path) -> None:
    one = chat(tmp_path / "a.db", "1\n1\n/progress\n").stdout
    two = chat(tmp_path / "b.db", "1\n1\n/progress\n").stdout
    assert one == two


def test_corrupt_database_is_named_without_traceback(tmp_path: Path) -> None:
    db = tmp_path / "bad.db"
    db.write_bytes(b"garbage" * 1000)
    run = chat(db, "/quit\n")
    assert run.returncode != 0
    assert "bad.db" in run.stderr and "Traceback" not in run.stderr


def test_invalid_dialogs_refuse_to_start(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "x.yaml").write_text("flow: [\n")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.app.cli",
            "chat",
            "--db",
            str(tmp_path / "c.db"),
            "--dialogs",
            str(folder),
        ],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0 and "x.yaml:" in run.stderr and "Traceback" not in run.stderr


def test_advance_shows_the_reminders_that_would_be_sent(tmp_path: Path) -> None:
    run = chat(tmp_path / "a.db", "1\n/advance 3d\n1\n/advance soon\n/quit\n", "--user", "Zoé")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "reminder(s) sent)" in out and "On en reparle, Zoé\u202f?" in out
    assert "  [1] On reprend\n  [2] Demain\n  [3] Pas maintenant\n  [4] Plus de rappels" in out
    assert "> 1\nQu'est-ce qui vous retient\u202f?" in out, "pressing [1] on the reminder goes on"
    assert "(usage: /advance 30m" in out


def test_two_people_in_one_database_invite_each_other(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    paul = chat(db, "/invite Zoé\n/quit\n", "--user", "Paul")
    link = next(line for line in paul.stdout.splitlines() if "?start=" in line).strip()
    assert link.startswith("https://t.me/VieCoachBot?start=")
    zoe = chat(db, "/quit\n", "--user", "Zoé", "--start", link)
    assert "Un ami vous invite." in zoe.stdout and "Paul verra où vous en êtes" in zoe.stdout
    friends = chat(db, "/friends\n", "--user", "Paul")
    assert "Vos proches invités\u00a0: 1" in friends.stdout and "Zoé — V 0/0" in friends.stdout


# Leaving: Ctrl-C and Ctrl-D in a real terminal (a pseudo-terminal), the end of a pipe.

GOODBYE = "À bientôt ! / See you soon! (Your progress is saved.)"
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C
COMMAND = [sys.executable, "-m", "bot.app.cli"]  # `vie-coach`, from this tree
# The child takes the pseudo-terminal as its controlling terminal, so that Ctrl-C typed
# there sends SIGINT to it, as in a real one (subprocess only gives it a new session).
CONTROLLING = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


class Terminal:
    """`vie-coach chat` running in a pseudo-terminal: type into it, read what it shows."""

    def __init__(self, db: Path) -> None:
        self.master, slave = pty.openpty()
        command = [*COMMAND, "chat", "--db", str(db), "--dialogs", str(MINI)]
        self.process = subprocess.Popen(
            [sys.executable, "-c", CONTROLLING, *command],
            stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self.shown = b""

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def read(self, until: Callable[[], bool], within: float) -> bool:
        """Read what it shows until `until()` or the end; False if `within` s ran out."""
        deadline = time.monotonic() + within
        while not until():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if select.select([self.master], [], [], left)[0]:
                try:
                    data = os.read(self.master, 4096)
                except OSError:  # EIO: every end of the terminal in the child is closed
                    data = b""
                if not data:
                    return until()
                self.shown += data
        return True

    def prompts(self, count: int) -> None:
        assert self.read(lambda: self.shown.count(b"\n> ") >= count, 10), self.shown

    def exit_code(self, within: float) -> int:
        started = time.monotonic()
        self.read(lambda: self.process.poll() is not None, within)
        code = self.process.wait(max(0.1, within - (time.monotonic() - started)))
        self.read(lambda: False, 0.2)  # what is left to show
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(tmp_path / "x.db")
    yield term
    term.close()


def test_ctrl_c_in_a_terminal_leaves_at_once_and_keeps_the_progress(
    terminal: Terminal, tmp_path: Path
) -> None:
    terminal.prompts(1)
    terminal.type(b"1\r")
    terminal.prompts(2)
    assert "Qu'est-ce qui vous retient\u202f?" in terminal.shown.decode()
    started = time.monotonic()
    terminal.type(b"\x03")  # no Enter after it
    code = terminal.exit_code(within=3)
    shown = terminal.shown.decode(errors="replace")
    assert time.monotonic() - started < 3 and code == INTERRUPTED, shown
    assert "Traceback" not in shown and "Event loop is closed" not in shown, shown
    assert shown.rstrip().endswith("Bye!"), shown
    with sqlite3.connect(tmp_path / "x.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    again = chat(tmp_path / "x.db", "")
    assert again.returncode == 0, again.stderr
    assert "Content de vous revoir.\n\nQu'est-ce qui vous retient\u202f?" in again.stdout


def test_ctrl_d_in_a_terminal_says_goodbye(terminal: Terminal) -> None:
    terminal.prompts(1)
    terminal.type(b"\x04")
    code = terminal.exit_code(within=3)
    shown = terminal.shown.decode(errors="replace")
    assert code == 0 and "Traceback" not in shown, shown
    assert shown.rstrip().endswith(GOODBYE), shown


def test_the_end_of_piped_input_says_goodbye(tmp_path: Path) -> None:
    run = chat(tmp_path / "c.db", "1\n")  # no /quit, no end of line at the very end
    assert run.returncode == 0 and run.stderr == ""
    assert run.stdout.rstrip().endswith("  [2] Retour\n\n" + GOODBYE)
    last = chat(tmp_path / "d.db", "1")
    assert "> 1\nQu'est-ce qui vous retient\u202f?" in last.stdout, "a last line without its end"


def test_ctrl_c_while_the_pipe_stays_open(tmp_path: Path) -> None:
    with subprocess.Popen(
        [*COMMAND, "chat", "--db", str(tmp_path / "c.db"), "--dialogs", str(MINI)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
    ) as process:  # fmt: skip
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(b"1\n")
        process.stdin.flush()  # and the pipe stays open: the chat waits for more
        shown = b""
        deadline = time.monotonic() + 10
        while "Qu'est-ce qui vous retient\u202f?".encode() not in shown:
            assert time.monotonic() < deadline, shown
            if select.select([process.stdout], [], [], 0.1)[0]:
                shown += os.read(process.stdout.fileno(), 4096)
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        code = process.wait(3)
        shown += process.stdout.read()
    assert time.monotonic() - started < 3 and code == INTERRUPTED
    assert b"Traceback" not in shown and shown.rstrip().endswith(b"Bye!"), shown


def test_input_from_a_file(tmp_path: Path) -> None:
    typed = tmp_path / "typed.txt"
    typed.write_text("1\n/quit\n")
    with typed.open() as stdin:
        run = subprocess.run(
            [*COMMAND, "chat", "--db", str(tmp_path / "c.db"), "--dialogs", str(MINI)],
            stdin=stdin, capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "> 1\nQu'est-ce qui vous retient\u202f?" in run.stdout and GOODBYE in run.stdout

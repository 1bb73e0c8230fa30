"""The terminal chat driven as a subprocess with piped standard input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    assert "Bonjour Zoé !" in out
    assert "  [1] M'informer\n  [2] Au revoir" in out
    assert "> 1\nQu'est-ce qui vous retient ?\n  [1] Vivre caché\n  [2] Retour" in out
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
    assert "reminder(s) sent)" in out and "On en reparle, Zoé ?" in out
    assert "  [1] On reprend\n  [2] Demain\n  [3] Pas maintenant\n  [4] Plus de rappels" in out
    assert "> 1\nQu'est-ce qui vous retient ?" in out, "pressing [1] on the reminder goes on"
    assert "(usage: /advance 30m" in out


def test_two_people_in_one_database_invite_each_other(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    paul = chat(db, "/invite Zoé\n/quit\n", "--user", "Paul")
    link = next(line for line in paul.stdout.splitlines() if "?start=" in line).strip()
    assert link.startswith("https://t.me/VieCoachBot?start=")
    zoe = chat(db, "/quit\n", "--user", "Zoé", "--start", link)
    assert "Un ami vous invite." in zoe.stdout and "Paul verra où vous en êtes" in zoe.stdout
    friends = chat(db, "/friends\n", "--user", "Paul")
    assert "Vos proches invités : 1" in friends.stdout and "Zoé — V 0/0" in friends.stdout

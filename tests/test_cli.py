"""The `vie-coach` command as an operator uses it: the check with its phrase file, and
the list of what people typed that the bot did not understand."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from bot.app.bootstrap import standard_features
from bot.app.cli import main
from bot.dialogs.load import load_dialogs
from bot.runtime.conversation import Conversations, Person
from bot.store import open_store
from bot.testing import ChatHarness, FakeClock

TALK = Path(__file__).resolve().parent / "fixtures" / "talk"

PHRASES = """\
phrases:
  fr:
    - {text: "ok je veux bien", intent: "yes"}
    - {text: "jai pas une minute", intent: no_time}
    - {text: "pas envie du tout", intent: "no"}
    - {text: "qwerty", intent: none}
  en:
    - {text: "sure thing", intent: "yes"}
    - {text: "way too busy", intent: no_time}
    - {text: "nope", intent: "no"}
    - {text: "qwerty", intent: none}
"""


def folder_with(tmp_path: Path, phrases: str) -> Path:
    folder = tmp_path / "dialogs"
    shutil.copytree(TALK, folder)
    (folder / "tests").mkdir()
    (folder / "tests" / "phrases.yaml").write_text(phrases, encoding="utf-8")
    return folder


def test_check_runs_the_phrase_file_and_prints_accuracy(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(folder_with(tmp_path, PHRASES))])
    assert result.exit_code == 0, result.output
    assert "phrases reaching their intent" in result.output
    assert "fr: 100.0% (4/4)" in result.output and "en: 100.0% (4/4)" in result.output
    assert "dialogs/tests/phrases.yaml" in result.output


def test_check_fails_under_ninety_percent_and_shows_the_confusions(tmp_path: Path) -> None:
    wrong = PHRASES.replace('intent: "no"}', "intent: no_time}")
    result = CliRunner().invoke(main, ["check", str(folder_with(tmp_path, wrong))])
    assert result.exit_code == 1
    assert "fr:  75.0% (3/4)" in result.output
    assert "fr no_time -> no x1: 'pas envie du tout'" in result.output
    assert "under 90%: add examples" in result.output


def test_check_names_a_phrase_expecting_an_unknown_intent(tmp_path: Path) -> None:
    odd = PHRASES.replace("intent: none}", "intent: weather}", 1)
    result = CliRunner().invoke(main, ["check", str(folder_with(tmp_path, odd))])
    assert result.exit_code == 1
    assert "phrases.yaml:6: phrase 'qwerty' expects unknown intent 'weather'" in result.output


def test_unknown_lists_the_most_frequent_texts_without_who(tmp_path: Path) -> None:
    db = tmp_path / "vie.db"

    async def chat() -> None:
        dialogs = load_dialogs(TALK, ("fr", "en"), "welcome", standard_features())
        store = await open_store(db)
        clock = FakeClock(datetime.now(UTC))
        for uid, name in ((1, "Zoé"), (2, "Marcel")):
            h = ChatHarness(Conversations(dialogs, store, "fr"), Person(uid, name, "fr"), clock)
            await h.send("/start")
            await h.send("non")
            await h.send("C'est quoi la météo ?")
        await h.send("zorglub 06 12 34 56 78")  # a phone number, typed by Marcel last
        await store.close()

    asyncio.run(chat())
    runner = CliRunner()
    result = runner.invoke(main, ["unknown", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "2  welcome.menu" in result.output and "C'est quoi la météo ?" in result.output
    assert "Zoé" not in result.output and "Marcel" not in result.output
    assert "zorglub ###" in result.output and "06 12" not in result.output
    missing = runner.invoke(main, ["unknown", "--db", str(tmp_path / "new.db"), "--since", "7d"])
    assert missing.exit_code == 7 and "new.db: no such database" in missing.output
    assert not (tmp_path / "new.db").exists()  # a tool that only reads creates nothing

    async def empty_store() -> None:
        await (await open_store(tmp_path / "empty.db")).close()

    asyncio.run(empty_store())
    empty = runner.invoke(main, ["unknown", "--db", str(tmp_path / "empty.db"), "--since", "7d"])
    assert "nothing fell back" in empty.output
    bad = runner.invoke(main, ["unknown", "--db", str(db), "--since", "soon"])
    assert bad.exit_code == 2 and "invalid duration 'soon'" in bad.output


def test_poison_lists_what_was_set_aside_and_shows_one_on_request(tmp_path: Path) -> None:
    db = tmp_path / "vie.db"

    async def arrive() -> None:
        store = await open_store(db)
        now = datetime.now(UTC)
        await store.inbox.add([(7, '{"update_id": 7, "poll": {"id": "p"}}', None)], now)
        await store.inbox.set_aside(7, "unreadable", now)
        await store.close()

    async def empty() -> None:
        await (await open_store(db)).close()

    runner = CliRunner()
    asyncio.run(empty())
    assert "no update was set aside" in runner.invoke(main, ["poison", "--db", str(db)]).output
    asyncio.run(arrive())
    listed = runner.invoke(main, ["poison", "--db", str(db)])
    assert listed.exit_code == 0 and "         7  " in listed.output
    assert "unreadable" in listed.output and "poll" not in listed.output, "ids, not contents"
    shown = runner.invoke(main, ["poison", "--db", str(db), "--show", "7"])
    assert shown.output.strip() == '{"update_id": 7, "poll": {"id": "p"}}'
    missing = runner.invoke(main, ["poison", "--db", str(db), "--show", "8"])
    assert missing.exit_code == 1 and "no update 8 was set aside" in missing.output

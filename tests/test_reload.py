"""Hot reload on a running bot, on the Bot API emulator: an operator changes a text,
renames a node and deletes another while people stand at each of them (one with a
reminder pending), reads the checker's report of who moves where, reloads, and everyone
continues in the right place. A set with an error is refused and the old one keeps
serving; every version served is kept, and `vie-coach rollback` brings the previous back."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.app.cli import main
from bot.testing import FakeClock
from bot.testing.botapi import BotApiEmulator, FakeUser, serve

from .conftest import MINI
from .processes import until as until_line
from .processes import vie_coach
from .test_end_to_end import live_bot, press, say, texts, until
from .test_migration import delete_hidden, edit, load, rename_intro

pytestmark = pytest.mark.timeout(120)
ANNE, BRUNO, CHLOE = (
    FakeUser(11, "Anne", "fr"),
    FakeUser(12, "Bruno", "fr"),
    FakeUser(13, "Chloé", "fr"),
)
OPERATOR = FakeUser(99, "Opé", "fr")


def config_file(tmp_path: Path, folder: Path, watch: bool, base_url: str = "") -> Path:
    path = tmp_path / "vie.toml"
    api = f'base_url = "{base_url}"\n' if base_url else ""
    path.write_text(
        f'[bot]\ndialogs = "{folder}"\nwatch_dialogs = {str(watch).lower()}\n'
        f'[store]\npath = "{tmp_path / "vie.db"}"\n'
        f"[telegram]\n{api}admins = [{OPERATOR.id}]\n[ops]\nport = 0\n",
        encoding="utf-8",
    )
    return path


@asynccontextmanager
async def running(
    emulator: BotApiEmulator, tmp_path: Path, folder: Path, clock: FakeClock, watch: bool = True
) -> AsyncIterator[Any]:
    """The bot as `vie-coach run` serves `folder`, polling the emulator; nudges by hand."""
    async with live_bot(
        emulator, tmp_path / "vie.db", load(folder), clock.now,
        bot={"dialogs": str(folder), "watch_dialogs": watch}, dialog_folder=folder,
        admins=[OPERATOR.id],
    ) as app:  # fmt: skip
        yield app


async def cli(args: list[str]) -> Any:
    """`vie-coach ARGS` beside the running bot (in a thread: it runs its own event loop)."""
    return await asyncio.to_thread(CliRunner().invoke, main, args)


async def press_shown(emulator: BotApiEmulator, user: FakeUser, label: str) -> str:
    """Press `label` under the latest message that shows it (not only the latest keyboard:
    a reminder came since)."""
    message = next(
        m for m in reversed(emulator.sent_to(user.id)) if label in dict(emulator.buttons(m))
    )
    count = len(emulator.sent_to(user.id))
    emulator.user_press(user, message, dict(emulator.buttons(message))[label])
    await until(lambda: len(emulator.sent_to(user.id)) > count)
    return texts(emulator, user)[-1]


def version_of(app: Any) -> str:
    return str(app.bot_data["vie"].conversations.dialogs.version)


async def test_edit_while_running_everyone_continues_in_the_right_place(tmp_path: Path) -> None:
    folder = tmp_path / "dialogs"
    shutil.copytree(MINI, folder)
    emulator, clock = BotApiEmulator(), FakeClock()
    async with running(emulator, tmp_path, folder, clock, watch=False) as app:
        first = version_of(app)
        for who in (ANNE, BRUNO, CHLOE):
            await say(emulator, who, "/start")
        await press(emulator, ANNE, "M'informer")  # at informer.intro: a reminder pending
        await press(emulator, BRUNO, "M'informer")
        await press(emulator, BRUNO, "Vivre caché")  # at informer.hidden
        # Chloé stays at welcome.menu

        rename_intro(folder)
        delete_hidden(folder)
        edit(folder, "welcome.yaml", "Par où commencer ?", "Par quoi commencer ?")
        report = await cli(["check", str(folder), "--db", str(tmp_path / "vie.db")])
        assert report.exit_code == 0, report.output
        assert "1 person at `informer.intro` go to `informer.reasons` (renamed, and changed" in (
            report.output
        )
        assert "1 person at `informer.hidden` go to `informer.reasons`, the start" in report.output
        assert "1 person at `welcome.menu` stay there" in report.output

        answer = await say(emulator, OPERATOR, "/reload")
        assert f"(avant {first})" in answer and "1 person at `informer.intro`" in answer
        assert version_of(app) != first

        # Anne's reminder is due: it comes, from the renamed node
        clock.advance(timedelta(days=2, hours=1))
        await app.bot_data["dispatcher"].drain()
        await app.bot_data["sender"].flush()
        assert texts(emulator, ANNE)[-1] == "On en reparle, Anne\u202f?"
        # her old button: the node changed (its button now leads elsewhere): it expires
        reply = await press_shown(emulator, ANNE, "Vivre caché")
        assert reply.startswith("Ce bouton a expiré") and "retient" in reply
        assert "Bravo" in await press(emulator, ANNE, "Vivre caché")  # the new way on
        # Bruno's node is gone: the start of the same part, with a word
        # (two messages: the word and the part's start, then "not understood" for "euh")
        before = len(emulator.sent_to(BRUNO.id))
        emulator.user_message(BRUNO, "euh")
        await until(lambda: len(emulator.sent_to(BRUNO.id)) >= before + 2)
        reply = "\n".join(texts(emulator, BRUNO)[before:])
        assert "La conversation a changé" in reply and "retient" in reply
        # Chloé's node changed its text: her old button expires, she sees the new text
        reply = await press(emulator, CHLOE, "M'informer")
        assert reply.startswith("Ce bouton a expiré") and "Par quoi commencer" in reply

        # the operator who is not one gets nothing but an unknown command
        assert await say(emulator, CHLOE, "/reload") == "Commande inconnue\xa0: /reload"
        assert "Inchangé" in await say(emulator, OPERATOR, "/reload")


async def test_a_broken_edit_is_refused_and_the_watcher_serves_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "dialogs"
    shutil.copytree(MINI, folder)
    emulator, clock = BotApiEmulator(), FakeClock()
    async with running(emulator, tmp_path, folder, clock) as app:
        first = version_of(app)
        reloader = app.bot_data["reloader"]
        await say(emulator, ANNE, "/start")
        edit(folder, "welcome.yaml", "goto: bye", "goto: byebye")  # no such node
        refused = await reloader.reload("test")
        assert refused.result == "refused" and version_of(app) == first
        assert any("byebye" in p and "welcome.yaml:" in p for p in refused.problems)
        assert "Refusé" in await say(emulator, OPERATOR, "/reload")
        # fixed and saved: the watcher notices by itself
        edit(folder, "welcome.yaml", "goto: byebye", "goto: bye")
        edit(folder, "welcome.yaml", "À bientôt.", "À très bientôt.")
        await until(lambda: version_of(app) != first, 20)
        await say(emulator, ANNE, "/start")
        reply = await press(emulator, ANNE, "Au revoir")
        assert "À très bientôt." in reply
        served = await app.bot_data["vie"].conversations.store.versions.history()
        assert [s.reason for s in served] == ["reload (file change)", "start"]


async def test_rollback_serves_the_previous_version_again(tmp_path: Path) -> None:
    folder = tmp_path / "dialogs"
    shutil.copytree(MINI, folder)
    emulator, clock = BotApiEmulator(), FakeClock()
    async with running(emulator, tmp_path, folder, clock, watch=False) as app:
        first = version_of(app)
        edit(folder, "welcome.yaml", "Par où commencer ?", "Par quoi commencer ?")
        (folder / "extra.yaml").write_text(
            (folder / "facts.yaml").read_text().replace("known_99", "other_fact")
        )
        assert (await app.bot_data["reloader"].reload("test")).result == "done"
        second = version_of(app)
        config = config_file(tmp_path, folder, watch=False)
        listed = await cli(["versions", "--config", str(config)])
        assert listed.exit_code == 0, listed.output
        assert re.search(rf"{second} .* reload \(test\)  <- serving", listed.output)
        assert re.search(rf"{first} .* start", listed.output)
        done = await cli(["rollback", "--config", str(config)])
        assert done.exit_code == 0, done.output
        assert f"version {first} written back" in done.output
        assert not (folder / "extra.yaml").exists(), "a file the old version did not have goes"
        assert "Par où commencer" in (folder / "welcome.yaml").read_text()
        # this test's bot runs inside pytest, not as `vie-coach run`: it is not signalled
        # (test_sighup_reloads_the_running_command sees a real one told)
        assert "is not `vie-coach run`" in done.output
        assert (await app.bot_data["reloader"].reload("rollback")).result == "done"
        assert version_of(app) == first
        again = await cli(["rollback", "--config", str(config), "--to", "abcdef"])
        assert again.exit_code == 1 and "was never served here" in again.output


async def test_sighup_reloads_the_running_command(tmp_path: Path) -> None:
    folder = tmp_path / "dialogs"
    shutil.copytree(MINI, folder)
    emulator = BotApiEmulator()
    async with serve(emulator) as base_url:
        config = config_file(tmp_path, folder, watch=False, base_url=base_url)
        async with vie_coach("run", "--config", str(config)) as (process, lines):
            await until_line(lambda: any("serving @" in line for line in lines), 30, "started")
            edit(folder, "welcome.yaml", "Par où commencer ?", "Par quoi commencer ?")
            process.send_signal(1)  # SIGHUP
            await until_line(
                lambda: any("dialogs reloaded (SIGHUP)" in line for line in lines), 30, "reloaded"
            )
            reply = await say(emulator, ANNE, "/start")
            assert "Par quoi commencer" in reply
            assert process.returncode is None, "SIGHUP does not stop the bot"
            rolled = await cli(["rollback", "--config", str(config)])
            assert "was told to reload (SIGHUP)" in rolled.output, rolled.output
            await until_line(
                lambda: sum("dialogs reloaded (SIGHUP)" in line for line in lines) == 2, 30, "again"
            )


async def test_a_folder_that_goes_away_keeps_the_old_set_serving(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "dialogs"
    shutil.copytree(MINI, folder)
    emulator, clock = BotApiEmulator(), FakeClock()
    async with running(emulator, tmp_path, folder, clock) as app:
        first = version_of(app)
        shutil.rmtree(folder)
        await until(lambda: "is gone: waiting for it to come back" in caplog.text, 20)
        refused = await app.bot_data["reloader"].reload("test")
        assert refused.result == "refused" and "no such dialog folder" in refused.problems[0]
        assert "Par où commencer" in await say(emulator, ANNE, "/start")
        assert version_of(app) == first
        # a deploy puts the folder back, edited: it is served, and watched again
        shutil.copytree(MINI, folder)
        edit(folder, "welcome.yaml", "Par où commencer ?", "Par quoi commencer ?")
        await until(lambda: version_of(app) != first, 20)
        edit(folder, "welcome.yaml", "Par quoi commencer ?", "Par où commencer ?")
        await until(lambda: version_of(app) == first, 20)

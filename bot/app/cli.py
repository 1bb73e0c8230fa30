"""The `vie-coach` command: check dialogs, chat in the terminal, run on Telegram."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click

from bot.app import bootstrap
from bot.app.config import Config, find_config
from bot.core.dialogset import DialogSet
from bot.core.durations import parse_duration
from bot.dialogs.checks import stale_facts
from bot.dialogs.phrases import PHRASES, check_phrases
from bot.errors import DialogError, VieError
from bot.runtime.conversation import Conversations
from bot.store import open_store


def _config(path: str | None) -> Config:
    try:
        return find_config(path, os.environ)
    except VieError as exc:
        raise click.ClickException(str(exc)) from exc


def load_checked(config: Config, directory: Path | None = None) -> DialogSet:
    """Load the dialogs or raise DialogError (the bot never starts on a bad set)."""
    dialogs, problems = bootstrap.check(config, directory)
    if dialogs is None:
        raise DialogError(problems)
    return dialogs


@click.group()
@click.version_option(package_name="vie-coach")
def main() -> None:
    """VIE Coach: gently coach reluctant friends onto social networks."""


@main.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--config", "config_path", help="Configuration file (TOML).")
def check(directory: Path | None, config_path: str | None) -> None:
    """Check every dialog file in DIRECTORY (default: the configured folder)."""
    config = _config(config_path)
    folder = directory or config.bot.dialogs
    dialogs, problems = bootstrap.check(config, folder)
    report = None
    if dialogs is not None:
        problems = [*problems, *stale_facts(dialogs, date.today().year, config.bot.fact_max_age)]
        report, phrase_problems = check_phrases(folder, dialogs)
        problems += phrase_problems
        if report is not None:
            click.echo(f"phrases reaching their intent ({Path(folder) / PHRASES}):")
            for line in report.lines():
                click.echo(f"  {line}")
        if any(p.severity == "error" for p in phrase_problems):
            dialogs = None
    for problem in problems:
        click.echo(str(problem), err=problem.severity == "error")
    errors = sum(1 for p in problems if p.severity == "error")
    if dialogs is None:
        click.echo(
            f"{errors} error(s) in {folder}: the bot will not start until they are fixed.", err=True
        )
        sys.exit(1)
    nodes = sum(len(f.nodes) for f in dialogs.flows.values())
    click.echo(
        f"ok: {len(dialogs.flows)} flows, {nodes} nodes, {len(dialogs.facts)} facts, "
        f"languages {', '.join(dialogs.languages)} (version {dialogs.version})"
    )


@main.command()
@click.option("--config", "config_path", help="Configuration file (TOML).")
@click.option(
    "--db", "db_path", type=click.Path(path_type=Path), help="SQLite file (created if missing)."
)
@click.option("--user", "user", default="Alex", show_default=True, help="Your name in this chat.")
@click.option("--lang", type=click.Choice(["fr", "en"]), help="Language for a new user.")
@click.option("--dialogs", "dialogs_dir", type=click.Path(path_type=Path), help="Dialog folder.")
@click.option(
    "--start",
    "link",
    default="",
    help="Arrive through an invitation: its link (t.me/…?start=…) or its payload.",
)
def chat(
    config_path: str | None,
    db_path: Path | None,
    user: str,
    lang: str | None,
    dialogs_dir: Path | None,
    link: str,
) -> None:
    """Chat with the bot in this terminal (or through a pipe). No token needed.

    Several people can share one database: `--user Paul` makes an invitation with
    /invite, then `--user Zoé --start <link>` arrives through it."""
    from bot.adapters.terminal import chat as run_chat

    config = _config(config_path)

    async def go() -> None:
        dialogs = load_checked(config, dialogs_dir)
        store = await open_store(
            db_path or config.store.path, keep_unknown=config.store.keep_unknown
        )
        try:
            conversations = Conversations(
                dialogs, store, lang or config.bot.default_language, config.links.verifier()
            )
            await run_chat(conversations, user, lang, start=link)
        finally:
            await store.close()

    _run(go())


@main.command()
@click.option("--config", "config_path", help="Configuration file (TOML).")
def run(config_path: str | None) -> None:
    """Run the bot on Telegram (token from TELEGRAM_BOT_TOKEN)."""
    from bot.app.telegram import run_bot

    config = _config(config_path)
    logging.basicConfig(
        level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not config.telegram.token:
        raise click.ClickException(
            "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather, then "
            "TELEGRAM_BOT_TOKEN=... vie-coach run"
        )
    try:
        dialogs = load_checked(config)
    except DialogError as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in stale_facts(dialogs, date.today().year, config.bot.fact_max_age):
        logging.getLogger("bot.dialogs").warning("%s", problem)
    run_bot(config, dialogs)


@main.command()
@click.option("--config", "config_path", help="Configuration file (TOML).")
@click.option(
    "--db", "db_path", type=click.Path(path_type=Path), help="SQLite file (default: configured)."
)
@click.option("--since", default="30d", show_default=True, help="How far back, e.g. 7d or 2w.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def unknown(config_path: str | None, db_path: Path | None, since: str, limit: int) -> None:
    """What people typed that the bot did not understand, most frequent first, by node:
    add those words as examples of an intent (dialogs/intents.yaml). Never shows who."""
    config = _config(config_path)
    try:
        back = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None

    async def go() -> None:
        store = await open_store(
            db_path or config.store.path, keep_unknown=config.store.keep_unknown
        )
        now = datetime.now(UTC)
        try:
            await store.prune(now)  # nothing older than store.keep_unknown is ever shown
            rows = await store.unknown_texts(now - back, limit)
        finally:
            await store.close()
        if not rows:
            click.echo(f"nothing fell back to 'not understood' in the last {since}")
            return
        click.echo(f"{'times':>5}  {'node':<28} lang  text")
        for node, lang, text, count in rows:
            click.echo(f"{count:>5}  {node or '(before the start)':<28} {lang:<4}  {text!r}")

    _run(go())


@main.command()
@click.option("--config", "config_path", help="Configuration file (TOML).")
@click.option(
    "--db", "db_path", type=click.Path(path_type=Path), help="SQLite file (default: configured)."
)
@click.option("--show", "show_id", type=int, help="Print this update's raw JSON.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def poison(config_path: str | None, db_path: Path | None, show_id: int | None, limit: int) -> None:
    """Updates from Telegram the bot could not read or handle, set aside so that they
    block no one: their ids, when, and why. `--show ID` prints one as it came (it may
    hold what someone wrote: look only to understand the bug)."""
    config = _config(config_path)

    async def go() -> None:
        store = await open_store(
            db_path or config.store.path, keep_unknown=config.store.keep_unknown
        )
        try:
            rows = await store.inbox.poison(limit if show_id is None else 10_000)
        finally:
            await store.close()
        if show_id is not None:
            found = [body for uid, _, _, body in rows if uid == show_id]
            if not found:
                raise click.ClickException(
                    f"no update {show_id} was set aside (`vie-coach poison` lists them)"
                )
            click.echo(found[0])
            return
        if not rows:
            click.echo("no update was set aside: every one could be read")
            return
        click.echo(f"{'update':>10}  {'when (UTC)':<16}  why")
        for update_id, error, at, _ in rows:
            click.echo(f"{update_id:>10}  {at:%Y-%m-%d %H:%M}  {error}")

    _run(go())


def _run(coro: object) -> None:
    try:
        asyncio.run(coro)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        click.echo("\nBye!")
    except VieError as exc:
        raise click.ClickException(str(exc)) from exc


if __name__ == "__main__":
    main()

"""The `vie-coach` command: check dialogs, chat in the terminal, run on Telegram."""

from __future__ import annotations

import logging
import shutil
import signal
import sys
from collections.abc import Awaitable
from datetime import UTC, date, datetime
from pathlib import Path

import click

from bot import bundled
from bot.app import bootstrap, logs
from bot.app import versions_command as versions
from bot.app.cli_common import config_of, fail, folder_of, load_checked, run_async
from bot.app.graph_command import graph_command
from bot.app.startup import Exit, explain
from bot.app.stats_command import stats_command
from bot.app.store_command import store_command
from bot.app.test_command import test_command
from bot.core.durations import parse_duration
from bot.dialogs.checks import stale_facts
from bot.dialogs.phrases import PHRASES, check_phrases
from bot.errors import DialogError, VieError
from bot.runtime.conversation import Conversations
from bot.store import open_store
from bot.store.lock import InstanceLock
from bot.store.versions import Served


@click.group()
@click.version_option(package_name="vie-coach")
def main() -> None:
    """VIE Coach: gently coach reluctant friends onto social networks."""


@main.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--config", "config_path", help="Configuration file (TOML).")
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="A live database: also say who would move where if these dialogs were served.",
)
def check(directory: Path | None, config_path: str | None, db_path: Path | None) -> None:
    """Check every dialog file in DIRECTORY (default: the configured folder, else
    ./dialogs, else the bundled ones); with --db, compare them with where people are."""
    config = config_of(config_path)
    folder, how = folder_of(config, directory)
    if directory is None:
        click.echo(f"checking {folder} ({how})")
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
    if db_path is not None:
        click.echo(f"if served now, compared with {db_path}:")
        lines: list[str] = []
        run_async(_collect(versions.who_moves(config, db_path, dialogs), lines))
        for line in lines:
            click.echo(f"  {line}")
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

    config = config_of(config_path)
    folder, how = folder_of(config, dialogs_dir)
    if dialogs_dir is None:
        click.echo(f"(dialogs: {folder}, {how})", err=True)

    async def go() -> None:
        dialogs = load_checked(config, folder)
        store = await open_store(
            db_path or config.store.target, keep_unknown=config.store.keep_unknown
        )
        try:
            conversations = Conversations(
                dialogs, store, lang or config.bot.default_language, config.links.verifier()
            )
            await run_chat(conversations, user, lang, start=link)
        finally:
            await store.close()

    run_async(go())


@main.command()
@click.option("--config", "config_path", help="Configuration file (TOML).")
@click.option(
    "--log-level",
    type=click.Choice(logs.LEVELS, case_sensitive=False),
    help="DEBUG, INFO, WARNING or ERROR (default: logging.level).",
)
@click.option(
    "--log-format",
    type=click.Choice(logs.FORMATS),
    help="text lines, or one JSON object per line (default: logging.format).",
)
def run(config_path: str | None, log_level: str | None, log_format: str | None) -> None:
    """Run the bot on Telegram (token from TELEGRAM_BOT_TOKEN). Exit codes: 2 bad
    configuration, 3 dialog errors, 4 token refused, 5 Telegram unreachable, 6 database
    served by another process, 7 database unusable, 8 port taken (docs/deploy.md)."""
    from bot.app.telegram import run_bot

    config = config_of(config_path)
    logs.configure(log_level or config.log_level, log_format or config.log_format)
    if not config.telegram.token:
        fail(
            Exit.CONFIG,
            "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather, then "
            "TELEGRAM_BOT_TOKEN=... vie-coach run",
        )
    # SIGHUP means "reload the dialogs" once the bot serves; before that (and while it
    # stops) it must not end the process, as its default would (a rollback sends it)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:  # before anything else: a second instance says so and nothing more
        lock = InstanceLock.for_store(config.store.path, shared=config.store.shared)
    except VieError as exc:
        fail(*(explain(exc) or (Exit.STORE, str(exc))))
    folder, how = folder_of(config, None)
    try:
        dialogs = load_checked(config, folder)
    except DialogError as exc:
        fail(Exit.DIALOGS, f"{folder}: {exc}")
    for problem in stale_facts(dialogs, date.today().year, config.bot.fact_max_age):
        logging.getLogger("bot.dialogs").warning("%s", problem)
    try:
        # the bundled dialogs are part of the installed package: nothing to watch there
        editable = None if folder == bundled.dialogs() else folder
        run_bot(config, dialogs, f"{folder} ({how})", lock, dialog_folder=editable)
    except Exception as exc:
        known = explain(exc, config.telegram.base_url)
        if known is None:
            logging.getLogger("bot").exception("the bot stopped on an unexpected error")
            fail(Exit.UNEXPECTED, f"stopped on an unexpected error ({type(exc).__name__})")
        fail(*known)


@main.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files already there.")
def init(directory: Path, force: bool) -> None:
    """Make DIRECTORY (default: here) ready to run a bot of your own: a copy of the
    bundled dialogs to edit (dialogs/) and the commented configuration (config.toml)."""
    target = directory / "dialogs"
    config = directory / "config.toml"
    existing = [p for p in (target, config) if p.exists()]
    if existing and not force:
        fail(
            Exit.CONFIG,
            f"{', '.join(str(p) for p in existing)} already exist(s): nothing was changed "
            "(--force overwrites them)",
        )
    source = bundled.dialogs()
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target, dirs_exist_ok=True)
    # the copied folder, named: relative to the configuration file, so that
    # `vie-coach run --config DIR/config.toml` from anywhere serves these dialogs
    text = bundled.example_config().replace('\ndialogs = ""\n', '\ndialogs = "dialogs"\n', 1)
    config.write_text(text, encoding="utf-8")
    click.echo(f"dialogs copied to {target}/ and the configuration to {config}.")
    click.echo("Next: edit them, check with `vie-coach check`, try with `vie-coach chat`,")
    click.echo("then TELEGRAM_BOT_TOKEN=... vie-coach run (from this folder).")


@main.command()
@click.argument("destination", type=click.Path(path_type=Path))
@click.option("--config", "config_path", help="Configuration file (TOML).")
@click.option(
    "--db", "db_path", type=click.Path(path_type=Path), help="SQLite file (default: configured)."
)
def backup(destination: Path, config_path: str | None, db_path: Path | None) -> None:
    """Copy the database to DESTINATION while the bot runs (SQLite's online backup:
    a consistent copy, the bot keeps serving)."""
    import sqlite3

    config = config_of(config_path)
    if config.store.shared and db_path is None:
        fail(Exit.CONFIG, "the store is PostgreSQL (store.url): back it up with pg_dump, "
                          "which copies a running database consistently")  # fmt: skip
    source = db_path or config.store.path
    if not Path(source).is_file():
        fail(Exit.STORE, f"{source}: no such database")
    if destination.exists():
        fail(Exit.CONFIG, f"{destination} already exists: give a new file name")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src:
        with sqlite3.connect(destination) as dst:
            src.backup(dst)
        dst.close()
        (pages,) = src.execute("PRAGMA page_count").fetchone()
    src.close()
    click.echo(f"{source} copied to {destination} ({pages} pages)")


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
    config = config_of(config_path)
    try:
        back = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None

    async def go() -> None:
        store = await open_store(
            db_path or config.store.target, keep_unknown=config.store.keep_unknown, read_only=True
        )
        now = datetime.now(UTC)
        try:
            # nothing older than store.keep_unknown is ever shown (the bot prunes it hourly)
            since = max(now - back, now - config.store.keep_unknown)
            rows = await store.unknown_texts(since, limit)
        finally:
            await store.close()
        if not rows:
            click.echo(f"nothing fell back to 'not understood' in the last {since}")
            return
        click.echo(f"{'times':>5}  {'node':<28} lang  text")
        for node, lang, text, count in rows:
            click.echo(f"{count:>5}  {node or '(before the start)':<28} {lang:<4}  {text!r}")

    run_async(go())


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
    config = config_of(config_path)

    async def go() -> None:
        store = await open_store(
            db_path or config.store.target, keep_unknown=config.store.keep_unknown, read_only=True
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

    run_async(go())


async def _collect(lines_of: Awaitable[list[str]], into: list[str]) -> None:
    into.extend(await lines_of)


_DB = click.option(
    "--db", "db_path", type=click.Path(path_type=Path), help="SQLite file (default: configured)."
)


@main.command("versions")
@click.option("--config", "config_path", help="Configuration file (TOML).")
@_DB
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
def versions_(config_path: str | None, db_path: Path | None, limit: int) -> None:
    """The dialog versions the bot served, the latest first, and why each began."""
    config = config_of(config_path)
    served: list[Served] = []
    run_async(_extend(versions.history(config, db_path, limit), served))
    versions.print_history(served)


@main.command()
@click.option("--config", "config_path", help="Configuration file (TOML).")
@_DB
@click.option("--dialogs", "dialogs_dir", type=click.Path(path_type=Path), help="Dialog folder.")
@click.option("--to", "to", help="The version to serve again (default: the one before).")
def rollback(
    config_path: str | None, db_path: Path | None, dialogs_dir: Path | None, to: str | None
) -> None:
    """Serve the previous dialog version again: its files, checked, go back into the
    dialog folder, and a running bot is told to reload them."""
    config = config_of(config_path)
    folder, _ = folder_of(config, dialogs_dir)
    written: list[str] = []

    async def go() -> None:
        written.append(await versions.rollback(config, db_path, folder, to))

    run_async(go())  # a RollbackError: one line saying why, exit 1
    click.echo(f"version {written[0]} written back to {folder}")
    if config.store.shared and db_path is None:  # workers, maybe on other machines
        click.echo("the workers serve these files once each is told: `kill -HUP` each "
                   "`vie-coach run` (systemctl reload 'vie-coach@*')")  # fmt: skip
    else:
        click.echo(versions.tell_the_bot(db_path or config.store.path))


async def _extend(items: Awaitable[list[Served]], into: list[Served]) -> None:
    into.extend(await items)


main.add_command(test_command, "test")
main.add_command(graph_command, "graph")
main.add_command(stats_command, "stats")
main.add_command(store_command, "store")

if __name__ == "__main__":
    main()

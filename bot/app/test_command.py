"""`vie-coach test`: play the scripted conversations of a dialog folder (its
`tests/journeys/*.yaml`) against those dialogs, and say which held and which did not.

Registered by `bot.app.cli`; what it shares with the other commands (configuration,
dialog folder, one-line failures) comes from `cli_common`, which cli.py imports too.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import click

from bot.app.cli_common import config_of, fail, folder_of, load_checked
from bot.app.config import Config
from bot.app.startup import Exit, explain
from bot.core.dialogset import DialogSet
from bot.errors import DialogError, VieError
from bot.testing.scenario_parse import load_checked_scripts
from bot.testing.scenario_run import ScenarioResult, run_scenario
from bot.testing.scenarios import JOURNEYS, Scenario, ScriptError, discover, select

SOME_FAILED = 1  # as `vie-coach check` exits when the dialogs have errors


@click.command("test")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--dialogs", "dialogs_dir", type=click.Path(path_type=Path), help="Dialog folder to test."
)
@click.option("--config", "config_path", help="Configuration file (TOML).")
@click.option("-k", "name_part", metavar="TEXT", help="Only the scenarios whose name has TEXT.")
@click.option("--transcript", is_flag=True, help="Print each conversation, passed or not.")
def test_command(
    files: tuple[Path, ...],
    dialogs_dir: Path | None,
    config_path: str | None,
    name_part: str | None,
    transcript: bool,
) -> None:
    """Play the scripted conversations of FILES (default: the dialog folder's
    tests/journeys/*.yaml) and check what the bot says. Exit codes: 0 all passed,
    1 some failed, 2 a script or the command line is wrong, 3 the dialogs have errors."""
    config = config_of(config_path)
    folder, how = folder_of(config, dialogs_dir)
    try:
        dialogs = load_checked(config, folder)
    except DialogError as exc:
        fail(Exit.DIALOGS, f"{folder}: {exc}\nfix the dialogs first (vie-coach check)")
    paths = list(files) or discover(folder)
    if not paths:
        fail(Exit.CONFIG, f"no test script in {folder / JOURNEYS}: write one (docs/dialogs.md)")
    missing = [p for p in paths if not p.is_file()]
    if missing:
        fail(Exit.CONFIG, f"{missing[0]}: no such test script")
    try:
        scenarios = load_checked_scripts(paths, dialogs)
    except ScriptError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        fail(Exit.CONFIG, f"{len(exc.problems)} problem(s) in the test scripts: nothing was run")
    chosen = select(scenarios, name_part)
    if not chosen:
        fail(Exit.CONFIG, f"no scenario's name has {name_part!r} ({len(scenarios)} scenarios)")
    click.echo(f"testing {folder} ({how}): {len(chosen)} scenario(s) of {len(paths)} file(s)")
    base = Path(os.path.commonpath([str(p.resolve().parent) for p in paths]))
    started = time.perf_counter()
    try:
        results = asyncio.run(_play(chosen, dialogs, config, base, transcript))
    except VieError as exc:  # the temporary database, say: not a failed scenario
        fail(*(explain(exc) or (Exit.UNEXPECTED, str(exc))))
    failed = sum(not r.passed for r in results)
    left_out = f" (-k {name_part!r}: {len(scenarios) - len(chosen)} left out)" if name_part else ""
    counts = f"{len(results) - failed} passed" + (f", {failed} failed" if failed else "")
    played = f"{len(results)} scenario" + ("s" if len(results) != 1 else "")
    click.echo(f"{played}{left_out}: {counts} ({time.perf_counter() - started:.1f} s)")
    sys.exit(SOME_FAILED if failed else int(Exit.OK))


async def _play(
    scenarios: list[Scenario], dialogs: DialogSet, config: Config, base: Path, transcript: bool
) -> list[ScenarioResult]:
    """Play them one by one, printing each line as it comes."""
    results = []
    for scenario in scenarios:
        result = await run_scenario(scenario, dialogs, config.bot.default_language)
        results.append(result)
        where = _short(Path(result.file), base)
        click.echo(f"{'ok  ' if result.passed else 'FAIL'} {where}:{result.line} {result.name}")
        if not result.passed:
            click.echo(_indent(result.failure, "     "))
        if transcript:
            click.echo(_indent(result.transcript, "     · "))
    return results


def _short(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return str(path)


def _indent(text: str, prefix: str) -> str:
    return "\n".join((prefix + line).rstrip() for line in text.splitlines())

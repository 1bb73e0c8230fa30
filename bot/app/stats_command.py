"""`vie-coach stats`: the funnel of the people who started recently, as a table in the
terminal, a CSV file and a PNG chart; `--experiment NAME` prints one A/B experiment's
report instead.

The database is opened read-only, beside a running bot (like `vie-coach unknown`).
Nothing anyone wrote is read, nobody is named unless they chose to be public, and a
group of fewer than 5 people shows "< 5" (docs/analytics.md).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from bot.app import bootstrap
from bot.app.cli_common import config_of, fail, run_async
from bot.app.config import Config
from bot.app.startup import Exit
from bot.app.stats_text import HIDDEN, funnel_table, group_name
from bot.core.dialogset import DialogSet
from bot.core.durations import parse_duration
from bot.errors import VieError
from bot.store import open_store
from bot.store.funnel import BY, Funnel, Group, Span, read_funnel

CSV_HEADER = ("group", "figure", "value")


def _duration(text: str, option: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _hours(span: Span | None) -> str:
    """A median's range in hours for the CSV: '3-6', '1440-' (open), '' (nobody)."""
    if span is None:
        return ""
    return f"{span.low}-{'' if span.high is None else span.high}"


def group_rows(group: Group) -> list[tuple[str, str]]:
    """(figure, value) of one group, every value "< 5" when the group is that small."""
    rows: list[tuple[str, object]] = [("started", group.started)]
    rows += [(f"reached:{name}", n) for name, n in group.milestones]
    rows += [(f"completed:{stage}", n) for stage, n in group.stages]
    rows += [
        ("went_quiet", group.quiet),
        ("quiet_after_days_median", "" if group.quiet_days is None else group.quiet_days),
        ("stopped_reminders", group.stopped),
    ]
    if group.erased is not None:
        rows.append(("erased", group.erased))
    rows += [("reminders_sent", group.reminders), ("came_back_within_a_day", group.came_back)]
    share = group.came_back_share
    rows.append(("came_back_share", "" if share is None else f"{share:.3f}"))
    rows += [(f"hours_to:{stage}", _hours(span)) for stage, span in group.to_stage]
    rows += [(f"hours_between:{pair}", _hours(span)) for pair, span in group.between]
    return [(figure, HIDDEN if group.hidden else str(value)) for figure, value in rows]


def csv_rows(funnel: Funnel) -> list[tuple[str, str, str]]:
    """One row per group and figure: everyone first (with the drop-off by node), then
    each group of `--by`."""
    everyone = group_name(funnel.total)
    rows = [(everyone, figure, value) for figure, value in group_rows(funnel.total)]
    rows += [
        (everyone, f"quiet_at:{node}", HIDDEN if funnel.total.hidden else str(n))
        for node, n in funnel.drop_off
    ]
    for group in funnel.groups:
        name = group_name(group)
        rows += [(name, figure, value) for figure, value in group_rows(group)]
    return rows


def write_csv(funnel: Funnel, path: Path) -> int:
    """Write the CSV file; how many rows of figures it holds."""
    rows = csv_rows(funnel)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        writer.writerows(rows)
    return len(rows)


def _dialogs(config: Config) -> DialogSet | None:
    """The dialogs, for the experiment's weights and arms; None when they cannot be read
    (the report then assumes equal weights and says so)."""
    try:
        dialogs, _ = bootstrap.check(config)
    except VieError:
        return None
    return dialogs


@click.command("stats")
@click.option("--config", "config_path", help="Configuration file (TOML).")
@click.option(
    "--db", "db_path", type=click.Path(path_type=Path), help="SQLite file (default: configured)."
)
@click.option(
    "--since", default="30d", show_default=True, help="Who started within, e.g. 7d or 4w."
)
@click.option("--by", type=click.Choice(BY), help="Split the figures into groups.")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write every figure to this CSV file.")  # fmt: skip
@click.option("--chart", "chart_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Also draw the funnel and the drop-off into this PNG file.")  # fmt: skip
@click.option(
    "--quiet-after", default="7d", show_default=True, help="No own action for this long: quiet."
)
@click.option("--experiment", help="Print this A/B experiment's report instead.")
@click.option("--lang", type=click.Choice(["en", "fr"]), default="en", show_default=True,
              help="Language of the table and chart.")  # fmt: skip
def stats_command(
    config_path: str | None,
    db_path: Path | None,
    since: str,
    by: str | None,
    csv_path: Path | None,
    chart_path: Path | None,
    quiet_after: str,
    experiment: str | None,
    lang: str,
) -> None:
    """How far the people who started recently went: milestones, stages, who went quiet
    and where, reminders and returns. Never what anyone wrote, never a name unless its
    owner chose to be public; groups of fewer than 5 people show "< 5"."""
    back = _duration(since, "--since")
    quiet = _duration(quiet_after, "--quiet-after")
    if chart_path is not None and chart_path.suffix.lower() != ".png":
        raise click.BadParameter(
            f"{chart_path}: the chart is a PNG picture, give a file name ending in .png",
            param_hint="--chart",
        )
    if experiment is not None and (by or csv_path or chart_path):
        raise click.UsageError(
            "--experiment prints one experiment's report: use it without --by, --csv, --chart"
        )
    config = config_of(config_path)
    path = db_path or config.store.target  # --db: a SQLite file; else as configured
    now = datetime.now(UTC)
    if experiment is not None:
        run_async(_experiment(config, path, experiment, now))
        return
    found: list[Funnel] = []
    run_async(_read(path, now, back, by, quiet, found))
    funnel = found[0]
    click.echo(funnel_table(funnel, lang))
    if funnel.empty or (not funnel.total.started and not funnel.total.erased):
        return  # the one line says it: no file is written
    if csv_path is not None:
        try:
            count = write_csv(funnel, csv_path)
        except OSError as exc:
            fail(Exit.CONFIG, f"{csv_path}: cannot write the CSV file ({exc.strerror})")
        click.echo(f"{count} figures written to {csv_path}", err=True)
    if chart_path is not None:
        from bot.app.stats_chart import funnel_png

        try:
            chart_path.write_bytes(funnel_png(funnel, lang))
        except OSError as exc:
            fail(Exit.CONFIG, f"{chart_path}: cannot write the chart ({exc.strerror})")
        click.echo(f"chart drawn in {chart_path}", err=True)


async def _read(
    path: Path | str, now: datetime, since: timedelta, by: str | None, quiet: timedelta,
    into: list[Funnel],
) -> None:  # fmt: skip
    store = await open_store(path, read_only=True)
    try:
        into.append(await read_funnel(store.fetch_all, now, since, by, quiet_after=quiet))
    finally:
        await store.close()


async def _experiment(config: Config, path: Path | str, name: str, now: datetime) -> None:
    from bot.app.experiment_report import experiment_report

    store = await open_store(path, read_only=True)  # a missing database: one line, now
    await store.close()
    click.echo(await experiment_report(path, name, now, dialogs=_dialogs(config)))

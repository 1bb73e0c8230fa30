"""/stats and /unknown: what the operators (`telegram.admins`) read in Telegram.

/stats [7d]: the funnel of the people who started within that period (30 days when
nothing is given), as a table and as a chart. /unknown [7d]: what people typed that the
bot did not understand, most frequent first, by node; never who typed it. For anyone
else both commands do not exist (the ordinary "unknown command" answer). Pure: each
command is an effect the runtime hands to the app (which reads the store and draws the
chart); `stats_replies` and `unknown_replies` turn what it found into messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.core.durations import parse_duration
from bot.core.events import Command, Document, FeatureEffect, Send
from bot.core.feature import CommandHandler, Feature
from bot.core.turn import Turn

NAME = "reports"
DEFAULT_PERIOD = "30d"
UNKNOWN_SHOWN = 20  # lines of /unknown: the most frequent, each at most TEXT_SHOWN long
TEXT_SHOWN = 40
TABLE_LIMIT = 2400  # of Telegram's 4,096 characters, what a table may take (typeset)
CHART_NAME = "vie-coach-stats.png"
MESSAGES: dict[str, frozenset[str]] = {
    "stats_report": frozenset({"period", "table"}),
    "stats_chart": frozenset({"period"}),
    "stats_none": frozenset({"period"}),
    "unknown_report": frozenset({"period", "table"}),
    "unknown_none": frozenset({"period"}),
    "report_bad_period": frozenset({"command", "typed"}),
    "cmd_stats": frozenset(),
    "cmd_unknown": frozenset(),
}
LENGTHS: dict[tuple[str, ...], int] = {
    ("period",): 8, ("table",): TABLE_LIMIT, ("command",): 8, ("typed",): 16,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ShowStats(FeatureEffect):
    """Read the funnel of the people who started within `since`, and show it."""

    since: timedelta
    period: str  # as the operator wrote it ("30d")


@dataclass(frozen=True, slots=True)
class ShowUnknown(FeatureEffect):
    """Read what was not understood within `since`, and show it."""

    since: timedelta
    period: str


def _period(turn: Turn, command: Command) -> tuple[timedelta, str] | None:
    """The period the operator asked for, or None once they were told how to write it."""
    typed = command.args.strip().lower() or DEFAULT_PERIOD
    if typed.isdigit():  # "/stats 7": days, as most people would mean
        typed = f"{typed}d"
    try:
        return parse_duration(typed), typed
    except ValueError:
        turn.say("report_bad_period", command=command.name, typed=command.args.strip()[:16])
        return None


def stats_(admins: frozenset[int]) -> CommandHandler:
    def handle(turn: Turn, command: Command) -> None:
        if turn.state.user_id not in admins:
            turn.say("unknown_command", command=command.name[:32])
            return
        if (period := _period(turn, command)) is not None:
            turn.record("stats_asked")
            turn.effects.append(ShowStats(*period))

    return handle


def unknown_(admins: frozenset[int]) -> CommandHandler:
    def handle(turn: Turn, command: Command) -> None:
        if turn.state.user_id not in admins:
            turn.say("unknown_command", command=command.name[:32])
            return
        if (period := _period(turn, command)) is not None:
            turn.record("unknown_asked")
            turn.effects.append(ShowUnknown(*period))

    return handle


def stats_replies(turn: Turn, asked: ShowStats, table: str, chart: bytes | None) -> list[Send]:
    """The table (monospace, so that its columns line up on a phone), then the chart."""
    if not table.strip():
        return [Send(turn.message("stats_none", period=asked.period))]
    shown = bounded(table.splitlines())  # escaped by the message's template
    sends = [Send(turn.message("stats_report", period=asked.period, table=shown))]
    if chart:
        caption = turn.message("stats_chart", period=asked.period)
        sends.append(Send(caption, document=Document(CHART_NAME, chart, "image/png")))
    return sends


def unknown_replies(
    turn: Turn, asked: ShowUnknown, rows: Sequence[tuple[str, str, str, int]]
) -> list[Send]:
    """One line per text: how many times, where, in which language, and the words (as
    data: escaped, cut short). Who wrote them is never read."""
    if not rows:
        return [Send(turn.message("unknown_none", period=asked.period))]
    lines = []
    for node, lang, text, count in rows[:UNKNOWN_SHOWN]:
        words = " ".join(text.split())
        words = words if len(words) <= TEXT_SHOWN else words[: TEXT_SHOWN - 1] + "…"
        lines.append(f"{count:>4}  {node or '-'}  {lang}  «{words}»")
    table = bounded(lines)  # escaped by the message's template: the words are data
    return [Send(turn.message("unknown_report", period=asked.period, table=table))]


def bounded(lines: Sequence[str], limit: int = TABLE_LIMIT) -> str:
    """Lines joined, as many whole ones as fit in `limit` characters (one message)."""
    kept: list[str] = []
    size = 0
    for i, line in enumerate(lines):
        if size + len(line) + 1 > limit - 40:
            kept.append(f"… (+{len(lines) - i})")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def feature(admins: Sequence[int] = ()) -> Feature:
    allowed = frozenset(admins)
    return Feature(
        name=NAME,
        commands={"stats": stats_(allowed), "unknown": unknown_(allowed)},
        messages=MESSAGES,
        lengths=LENGTHS,
        admin_menu=("stats", "unknown"),
    )

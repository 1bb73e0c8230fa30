"""`vie-coach stats`: the table, its options, the CSV and PNG files, French labels, an
empty database, bad options, and `--experiment`."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from bot.app.bootstrap import standard_features
from bot.app.cli import main
from bot.app.stats_chart import funnel_png
from bot.app.stats_command import CSV_HEADER, csv_rows
from bot.app.stats_text import duration, funnel_table
from bot.core.events import Record
from bot.core.state import new_state
from bot.dialogs.load import load_dialogs
from bot.runtime.conversation import Conversations, Person
from bot.store import open_store
from bot.store.funnel import Span, read_funnel
from bot.testing import ChatHarness, FakeClock

from .conftest import MINI

NAMES = ("Anne", "Bruno", "Chloé", "Denis", "Emma", "Fanny", "Gil")


def history(db: Path) -> None:
    """Seven people three days ago: all start, five go to the Informer intro (Chloé and
    Gil in English), three of them to the end; Denis stops the reminders."""

    async def play() -> None:
        dialogs = load_dialogs(MINI, ("fr", "en"), "welcome", standard_features())
        store = await open_store(db)
        clock = FakeClock(datetime.now(UTC) - timedelta(days=3))
        try:
            for uid, name in enumerate(NAMES, start=1):
                lang = "en" if name in ("Chloé", "Gil") else "fr"
                h = ChatHarness(Conversations(dialogs, store, "fr"), Person(uid, name, lang), clock)
                await h.send("/start")
                if uid <= 5:
                    await h.press(1)
                if uid <= 3:
                    await h.press(1)
                    await h.press(1)
                if name == "Denis":
                    await h.send("/stop")
        finally:
            await store.close()

    asyncio.run(play())


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "vie.db"
    history(path)
    return path


def stats(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["stats", *args])
    return result.exit_code, result.output


def test_the_table_in_the_terminal(db: Path) -> None:
    code, out = stats("--db", str(db))
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("People who started from ") and "(30 days)" in lines[0]
    assert any(line.split() == ["started", "7"] for line in lines)
    assert any(line.split() == ["reached", "i_hidden", "3", "43%"] for line in lines)
    assert any(line.split() == ["completed", "I", "3", "43%"] for line in lines)
    assert any(line.split() == ["stopped", "reminders", "1", "14%"] for line in lines)
    assert max(map(len, lines)) <= 60
    assert not any(name in out for name in NAMES), "nobody named"
    code, by = stats("--db", str(db), "--by", "language")
    assert code == 0 and "by language" in by
    assert any(line.split()[:2] == ["fr", "5"] for line in by.splitlines())
    assert any(line.split() == ["en", *["<", "5"] * 7] for line in by.splitlines())
    assert "< 5: fewer than 5 people, figures not shown" in by
    code, quiet = stats("--db", str(db), "--quiet-after", "2d")
    assert code == 0 and any(line.split()[:5] == ["went", "quiet", "(2", "d", "without"]
                             for line in quiet.splitlines())  # fmt: skip


def test_french_labels(db: Path) -> None:
    code, out = stats("--db", str(db), "--lang", "fr", "--by", "cohort")
    assert code == 0, out
    assert (
        out.startswith("Arrivés du ") and "ont commencé" in out and "par semaine d'arrivée" in out
    )
    assert "ont terminé I" in out and "ont coupé les rappels" in out


def test_csv_and_chart(db: Path, tmp_path: Path) -> None:
    table, chart = tmp_path / "funnel.csv", tmp_path / "funnel.png"
    code, out = stats(
        "--db", str(db), "--by", "language", "--csv", str(table), "--chart", str(chart)
    )
    assert code == 0, out
    assert f"figures written to {table}" in out and f"chart drawn in {chart}" in out
    with table.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_HEADER
    figures = {(g, figure): value for g, figure, value in rows[1:]}
    assert figures["everyone", "started"] == "7"
    assert figures["everyone", "reached:i_done"] == "3"
    assert figures["everyone", "completed:I"] == "3"
    assert figures["everyone", "hours_to:I"] == "0-1"
    assert figures["everyone", "stopped_reminders"] == "1"
    assert figures["fr", "started"] == "5" and figures["en", "started"] == "< 5"
    assert {value for (g, _), value in figures.items() if g == "en"} == {"< 5"}
    with Image.open(chart) as image:
        assert image.format == "PNG" and image.width > 600 and image.height > 200


def test_the_empty_database_and_an_empty_window(tmp_path: Path, db: Path) -> None:
    async def empty() -> None:
        await (await open_store(tmp_path / "empty.db")).close()

    asyncio.run(empty())
    code, out = stats("--db", str(tmp_path / "empty.db"), "--chart", str(tmp_path / "x.png"))
    assert code == 0 and out == "Nobody has talked to the bot yet: there is nothing to count.\n"
    assert not (tmp_path / "x.png").exists(), "nothing to draw"
    code, out = stats("--db", str(db), "--since", "1d")  # they started three days ago
    assert code == 0 and out.startswith("Nobody started from ") and len(out.splitlines()) == 1


def test_bad_options_are_answered_clearly(db: Path, tmp_path: Path) -> None:
    code, out = stats("--db", str(db), "--since", "soon")
    assert code == 2 and "invalid duration 'soon'" in out and "--since" in out
    code, out = stats("--db", str(db), "--by", "weekday")
    assert (
        code == 2 and "'weekday' is not one of 'advocate', 'cohort', 'language', 'variant'" in out
    )
    code, out = stats("--db", str(db), "--quiet-after", "0d")
    assert code == 2 and "--quiet-after" in out
    code, out = stats("--db", str(db), "--chart", str(tmp_path / "chart.svg"))
    assert code == 2 and "ending in .png" in out
    code, out = stats("--db", str(db), "--experiment", "x", "--csv", str(tmp_path / "a.csv"))
    assert code == 2 and "--experiment prints one experiment's report" in out
    code, out = stats("--db", str(tmp_path / "none.db"))
    assert code == 7 and "none.db: no such database" in out
    assert not (tmp_path / "none.db").exists()
    code, out = stats("--db", str(db), "--csv", str(tmp_path / "no" / "such" / "dir.csv"))
    assert code == 2 and "cannot write the CSV file" in out


def test_experiment_report(tmp_path: Path) -> None:
    db = tmp_path / "ab.db"

    async def exposed() -> None:
        store = await open_store(db)
        now = datetime.now(UTC)
        data = {"experiment": "hello", "node": "welcome.start", "outcome": "milestone:i_time"}
        try:
            for uid in range(1, 21):
                arm = "short" if uid % 2 else "long"
                state = new_state(uid, "fr", now, f"P{uid}")
                await store.save(None, state, [Record("exposure", {**data, "arm": arm})], {})
        finally:
            await store.close()

    asyncio.run(exposed())
    code, out = stats("--db", str(db), "--experiment", "hello")
    assert code == 0, out
    assert "short" in out and "long" in out and "P1" not in out
    code, out = stats("--db", str(db), "--experiment", "goodbye")
    assert code == 2 and "goodbye" in out and "hello" in out
    code, out = stats("--db", str(db), "--by", "variant")
    assert code == 0 and "hello/long" in out and "hello/short" in out


def test_renderers_on_their_own(db: Path) -> None:
    async def read() -> None:
        store = await open_store(db, read_only=True)
        try:
            f = await read_funnel(
                store.fetch_all, datetime.now(UTC), timedelta(days=30), "advocate"
            )
        finally:
            await store.close()
        rows = csv_rows(f)
        assert rows[0] == ("everyone", "started", "7")
        assert ("nobody invited", "started", "7") in rows
        with Image.open(io.BytesIO(funnel_png(f, "fr"))) as image:
            assert image.format == "PNG"
        assert "sans invitation" in funnel_table(f, "fr")

    asyncio.run(read())
    assert [duration(s) for s in (Span(0, 1), Span(3, 6), Span(24, 48), Span(1440, None))] == [
        "< 1 h", "3-6 h", "1-2 d", "> 60 d"]  # fmt: skip
    assert duration(Span(24, 48), "fr") == "1-2 j" and duration(None) == "-"

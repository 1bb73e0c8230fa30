"""Facts: each one fully sourced, shown with its publisher, year and link in the person's
language, and a `reviewed:` day that quiets its age warning for a year, no longer."""

from __future__ import annotations

import html
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.app.bootstrap import standard_features
from bot.core.dialogset import DialogSet
from bot.core.render import to_plain
from bot.core.state import new_state
from bot.core.turn import Turn
from bot.dialogs.checks import stale_facts
from bot.dialogs.load import check_directory
from bot.errors import Problem

from .conftest import LANGS, MINI

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _plain(text: str) -> str:
    """What the person reads, with French non-breaking spaces as plain ones."""
    return to_plain(text).replace("\u00a0", " ").replace("\u202f", " ")


def test_every_bundled_fact_is_fully_sourced(bundled: DialogSet) -> None:
    assert bundled.facts
    for fact in bundled.facts.values():
        assert fact.source.strip() and 1990 <= fact.year <= NOW.year, fact.id
        assert fact.url is not None and fact.url.startswith(("https://", "http://")), fact.id
        for lang in LANGS:
            for what in (fact.text, fact.study, fact.scope):
                assert what.get(lang, "").strip(), f"{fact.id}: nothing in {lang}"


def test_a_fact_is_shown_with_its_publisher_year_and_link(bundled: DialogSet) -> None:
    quoted = [n for f in bundled.flows.values() for n in f.nodes.values() if n.fact]
    assert quoted, "no node quotes a fact"
    for node in quoted:
        fact = bundled.facts[node.fact or ""]
        for lang in LANGS:
            text = Turn(bundled, new_state(1, lang, NOW, "Zoé"), NOW).node_text(node)
            where = f"{node.key} ({lang})"
            plain = _plain(text)
            assert fact.text[lang] in plain, where
            after = plain[plain.index(fact.text[lang]) :]
            assert fact.source in after and str(fact.year) in after, where
            assert f'<a href="{html.escape(fact.url or "")}">' in text, where
    # the wording around it is the person's own language
    hidden = bundled.node_at("informer", "hidden")
    assert hidden is not None
    fr = _plain(Turn(bundled, new_state(1, "fr", NOW), NOW).node_text(hidden))
    en = _plain(Turn(bundled, new_state(1, "en", NOW), NOW).node_text(hidden))
    assert "Source : Médiamétrie, 2012" in fr and "en savoir plus" in fr
    assert "Source: Médiamétrie, 2012" in en and "read more" in en


def test_no_fact_is_paired_with_an_objection_it_does_not_answer(bundled: DialogSet) -> None:
    # the mismatches of the content review of 2026-12: a fact must answer its objection
    unrelated = {
        ("informer", "fear"): {"twitter_15"},
        ("informer", "privacy"): {"mediametrie_99"},
    }
    for (flow, node_id), facts in unrelated.items():
        node = bundled.node_at(flow, node_id)
        assert node is not None and node.fact not in facts, f"{flow}.{node_id}: {node}"
    young = bundled.node_at("informer", "young")
    assert young is not None and young.fact is not None
    assert "âges" in bundled.facts[young.fact].text["fr"]  # it says something about ages


# -- reviewed: -----------------------------------------------------------------------


def _reviewed(mini: DialogSet, day: date | None, year: int = 2013) -> DialogSet:
    (fact,) = mini.facts.values()
    return replace(mini, facts={fact.id: replace(fact, reviewed=day, year=year)})


def _warnings(dialogs: DialogSet) -> list[Problem]:
    return stale_facts(dialogs, date.today().year, 5)


def test_an_old_fact_never_reviewed_is_warned_about(mini: DialogSet) -> None:
    (warning,) = _warnings(_reviewed(mini, None))
    assert warning.severity == "warning"
    assert "dates from 2013, more than 5 years ago" in warning.message
    assert f"`reviewed: {date.today().isoformat()}`" in warning.message  # what to write


def test_a_review_quiets_the_warning_for_a_year(mini: DialogSet) -> None:
    today = date.today()
    for days in (0, 1, 200, 364):
        assert _warnings(_reviewed(mini, today - timedelta(days=days))) == [], days
    for days in (365, 800):
        (warning,) = _warnings(_reviewed(mini, today - timedelta(days=days)))
        reviewed = (today - timedelta(days=days)).isoformat()
        assert f"last reviewed on {reviewed}, over a year ago" in warning.message


def test_a_review_dated_in_the_future_quiets_nothing(mini: DialogSet) -> None:
    later = date.today() + timedelta(days=30)
    (warning,) = _warnings(_reviewed(mini, later))
    assert "a day still to come" in warning.message and later.isoformat() in warning.message


def test_a_recent_fact_needs_no_review(mini: DialogSet) -> None:
    recent = _reviewed(mini, date.today() - timedelta(days=3000), year=date.today().year - 2)
    assert _warnings(recent) == []


# -- the facts file ------------------------------------------------------------------


def _with_facts(tmp_path: Path, old: str, new: str) -> tuple[DialogSet | None, list[Problem]]:
    folder = tmp_path / "dialogs"
    shutil.copytree(MINI, folder)
    path = folder / "facts.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, "fixture changed"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return check_directory(folder, LANGS, "welcome", standard_features())


@pytest.mark.parametrize("written", ["2026-03-02", '"2026-03-02"', "2026-03-02 10:00:00"])
def test_reviewed_is_read_quoted_or_not(tmp_path: Path, written: str) -> None:
    url = '    url: "https://www.mediametrie.fr/fr"\n'
    dialogs, problems = _with_facts(tmp_path, url, f"{url}    reviewed: {written}\n")
    assert dialogs is not None, problems
    assert dialogs.facts["known_99"].reviewed == date(2026, 3, 2)


@pytest.mark.parametrize("written", ["soon", '"2026-02-30"', "02/03/2026", "2026"])
def test_a_reviewed_that_is_not_a_day_is_an_error(tmp_path: Path, written: str) -> None:
    url = '    url: "https://www.mediametrie.fr/fr"\n'
    dialogs, problems = _with_facts(tmp_path, url, f"{url}    reviewed: {written}\n")
    assert dialogs is None
    (problem,) = [p for p in problems if "reviewed" in p.message]
    assert problem.file.endswith("facts.yaml") and "YYYY-MM-DD" in problem.message
    assert problem.line == 9  # the `reviewed:` line itself


@pytest.mark.parametrize("key", ["url", "study", "scope"])
def test_a_fact_without_its_source_details_is_refused(tmp_path: Path, key: str) -> None:
    lines = (MINI / "facts.yaml").read_text(encoding="utf-8").splitlines(keepends=True)
    line = next(text for text in lines if text.startswith(f"    {key}:"))
    dialogs, problems = _with_facts(tmp_path, line, "")
    assert dialogs is None
    assert any(f"missing key '{key}'" in p.message for p in problems), problems

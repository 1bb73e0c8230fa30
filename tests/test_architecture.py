"""The architecture contract as tests: no import cycle anywhere in `bot`, and the core
runs a dialog with no feature at all."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import grimp

from bot.core.engine import CORE_MESSAGES, step
from bot.core.events import Command, Press, Record, Send, Start, Text
from bot.core.state import new_state
from bot.dialogs.load import load_dialogs

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_takes_part_in_an_import_cycle() -> None:
    # TYPE_CHECKING imports count: a cycle hidden from the interpreter is still one.
    graph = grimp.build_graph("bot")
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="a")
    graph.add_import(importer="b", imported="c")
    assert _cycles(graph) == [["a", "b"]]


BARE_FLOW = """\
flow: welcome
start: menu
nodes:
  menu:
    say: {fr: "Bonjour {{ user.first_name }}, par où commencer ?", en: "Hello!"}
    buttons:
      - {id: go, label: {fr: "Allons-y", en: "Go"}, goto: bye}
    on_text:
      - {match: {fr: [salut], en: [hi]}, goto: bye}
  bye:
    say: {fr: "À bientôt.", en: "See you."}
    end: true
"""


def bare_dialogs(folder: Path) -> Path:
    """A dialog folder with only the messages the engine itself says."""
    folder.mkdir()
    (folder / "welcome.yaml").write_text(BARE_FLOW, encoding="utf-8")
    lines = ["messages:"]
    for key in CORE_MESSAGES:
        lines += [f"  {key}:", f'    fr: "fr {key}"', f'    en: "en {key}"']
    (folder / "messages.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_the_core_runs_a_dialog_with_no_feature_at_all(tmp_path: Path) -> None:
    dialogs = load_dialogs(bare_dialogs(tmp_path / "d"), ("fr", "en"), "welcome")
    assert dialogs.features == ()
    state, effects = step(dialogs, new_state(1, "fr", NOW, "Zoé"), Start(), NOW)
    texts = [e.text for e in effects if isinstance(e, Send)]
    assert texts == ["Bonjour Zoé, par où commencer\u202f?"]  # no "who invited you?"
    assert state.pending is None and state.parts == {}
    state, effects = step(dialogs, state, Text("zzz"), NOW)
    assert [e.name for e in effects if isinstance(e, Record)] == ["fallback"]
    assert state.node == "menu"
    state, effects = step(dialogs, state, Text("Salut !"), NOW)
    assert state.node == "bye"
    node = dialogs.flows["welcome"].nodes["menu"]
    state, _ = step(
        dialogs, replace(state, node="menu"), Press(f"{node.version}|welcome|menu|go"), NOW
    )
    assert state.node == "bye"
    # no feature claims /help: the core says it does not know it, kindly
    state, effects = step(dialogs, state, Command("help"), NOW)
    assert [e.name for e in effects if isinstance(e, Record)] == ["command"]
    assert next(e.text for e in effects if isinstance(e, Send)) == "fr unknown_command"
    # nor the bot's own buttons: an unknown action is an expired button
    state, effects = step(dialogs, state, Press("!forget:yes"), NOW)
    assert [e.name for e in effects if isinstance(e, Record)] == ["stale_press"]


def test_every_personal_table_is_owned_by_the_core_or_one_feature(tmp_path: Path) -> None:
    """What the features declare as theirs is what the store exports and erases, and
    every table of the schema is someone's (or, like group chats, nobody's)."""
    import sqlite3

    from bot.app.bootstrap import standard_features
    from bot.store.opening import migrations
    from bot.store.shared import USER_TABLES

    core = {"users": "user_id", "conversations": "user_id", "milestones": "user_id",
            "stages_completed": "user_id", "events": "user_id", "inbox": "owner", "outbox": "chat_id",
            "nudges": "user_id", "unknown_texts": "user_id", "exposures": "user_id",
            "reached_nodes": "user_id"}  # fmt: skip
    owned = dict(core)
    for feature in standard_features():
        for table, column in feature.tables.items():
            assert table not in owned, f"{table} claimed twice"
            owned[table] = column
    assert owned == USER_TABLES
    db = sqlite3.connect(tmp_path / "schema.db")
    for _, sql in migrations():
        db.executescript(sql)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    # not about anyone: group chats told once, unreadable updates, the dialog versions,
    # a broadcast's texts, the funnel's counters (counts of people; an advocate's id keys
    # the counts of their friends, and /forget removes it: tests/test_funnel_figures.py)
    impersonal = {"group_chats", "poison_updates", "dialog_files", "dialog_served",
                  "broadcasts", "funnel_counts", "funnel_advocates", "funnel_nodes",
                  "funnel_spots", "funnel_reach", "unknown_counts", "experiment_tallies",
                  "broadcast_counts"}  # fmt: skip
    assert tables - set(owned) == impersonal | {"sqlite_sequence"}
    parts = [f.part.name for f in standard_features() if f.part is not None]
    assert parts == ["advocates", "nudges"]

"""A flow-level default `nudges:`: given to every node of the flow that waits for the
person and has no `nudges:` of its own, checked once, sent like a node's own."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from bot.app.bootstrap import standard_features
from bot.core.dialogset import DialogSet
from bot.dialogs.load import check_directory, load_dialogs
from bot.errors import Problem

from .conftest import LANGS, MINI, HarnessFactory

DAY = timedelta(days=1)
DEFAULT = """nudges:
  - {after: 3d, say: {fr: "Toujours là, {{ user.first_name }}.", en: "Still here, {{ user.first_name }}."}}
nodes:"""
# the mini welcome flow, with a node that waits, one that opts out, one with its own
EXTRA = """  bye:
    say: {fr: "À bientôt.", en: "See you."}
    set: {vip: false}
    end: true
  quiet:
    say: {fr: "Rien à rappeler.", en: "Nothing to remind."}
    nudges: []
    buttons:
      - {id: menu, label: {fr: "Menu", en: "Menu"}, goto: menu}
  own:
    say: {fr: "Le mien.", en: "Mine."}
    nudges:
      - {after: 1d, say: {fr: "Le mien.", en: "Mine."}}
    buttons:
      - {id: menu, label: {fr: "Menu", en: "Menu"}, goto: menu}
"""
BUTTONS = """      - {id: bye, label: {fr: "Au revoir", en: "Goodbye"}, goto: bye}
      - {id: quiet, label: {fr: "Calme", en: "Quiet"}, goto: quiet}
      - {id: own, label: {fr: "Le mien", en: "Mine"}, goto: own}
"""


def folder_with(tmp_path: Path, default: str = DEFAULT) -> Path:
    """The mini dialog set, its welcome flow given a default `nudges:` and more nodes."""
    folder = tmp_path / "dialogs"
    shutil.copytree(MINI, folder)
    path = folder / "welcome.yaml"
    text = path.read_text(encoding="utf-8")
    bye = '  bye:\n    say: {fr: "À bientôt.", en: "See you."}\n    set: {vip: false}\n    end: true\n'
    button = '      - {id: bye, label: {fr: "Au revoir", en: "Goodbye"}, goto: bye}\n'
    assert "nodes:" in text and bye in text and button in text, "fixture changed"
    text = text.replace("nodes:", default, 1).replace(bye, EXTRA).replace(button, BUTTONS)
    path.write_text(text, encoding="utf-8")
    return folder


def problems(folder: Path) -> list[Problem]:
    return check_directory(folder, LANGS, "welcome", standard_features())[1]


def test_the_default_goes_to_every_node_that_waits_and_has_none(tmp_path: Path) -> None:
    dialogs = load_dialogs(folder_with(tmp_path), LANGS, "welcome", standard_features())
    flow = dialogs.flows["welcome"]
    (default,) = flow.nudges
    assert default.after == 3 * DAY
    nodes = flow.nodes
    assert nodes["menu"].nudges == (default,), "waits, has none of its own"
    assert nodes["start"].nudges == () and nodes["invited"].nudges == (), "goto: never waits"
    assert nodes["bye"].nudges == (), "end: a place to stop"
    assert nodes["quiet"].nudges == (), "nudges: [] opts out"
    assert [f.say["fr"] for f in nodes["own"].nudges] == ["Le mien."], "its own wins"
    assert dialogs.flows["informer"].nudges == (), "a flow without a default"


async def test_the_default_is_sent_like_a_nodes_own(
    tmp_path: Path, make_harness: HarnessFactory
) -> None:
    dialogs = load_dialogs(folder_with(tmp_path), LANGS, "welcome", standard_features())
    h = await make_harness(dialogs=dialogs)
    await h.send("/start")  # rests on the menu
    assert await h.advance(3 * DAY - timedelta(minutes=1)) == []
    (nudge,) = await h.advance(timedelta(minutes=1))
    assert nudge.text.replace("\u202f", " ").replace("\xa0", " ") == "Toujours là, Zoé."
    assert len(nudge.buttons) == 4, "with the nudges' own buttons"
    assert await h.advance(30 * DAY) == [], "one reminder in the default: then silence"
    await h.press("On reprend")
    await h.press("Le mien")  # a node with its own: 1 d, not the default
    assert len(await h.advance(DAY)) == 1
    await h.press("On reprend")
    await h.press("Menu")
    await h.press("Calme")  # opted out
    assert await h.advance(30 * DAY) == []


def test_a_mistake_in_the_default_is_reported_once_at_its_line(tmp_path: Path) -> None:
    bad = DEFAULT.replace("3d", "3 days").replace("{{ user.first_name }}.", "{{ vars.nope }}.")
    folder = folder_with(tmp_path, bad)
    line = next(
        i
        for i, text in enumerate((folder / "welcome.yaml").read_text().splitlines(), start=1)
        if "3 days" in text
    )
    found = [p for p in problems(folder) if p.severity == "error"]
    durations = [p for p in found if "is not a duration" in p.message]
    assert len(durations) == 1, durations
    (duration,) = durations
    assert duration.file.endswith("welcome.yaml") and duration.line == line
    assert duration.node is None and "default 'nudges', used by 1 node)" in duration.message
    unknown = [p for p in found if "unknown variable 'vars.nope'" in p.message]
    assert len(unknown) == 2, "once per language, not once per node"
    assert {p.line for p in unknown} == {line}


def test_a_default_no_node_uses_is_a_warning_and_still_checked(tmp_path: Path) -> None:
    folder = tmp_path / "dialogs"
    shutil.copytree(MINI, folder)
    path = folder / "informer.yaml"  # every node there has its own nudges, a goto or end
    text = path.read_text(encoding="utf-8")
    own = """    buttons:
      - {id: done, label: {fr: "Convaincu", en: "Convinced"}, goto: done}"""
    assert own in text, "fixture changed"
    text = text.replace(own, "    nudges: []\n" + own)
    path.write_text(text.replace("nodes:", DEFAULT.replace("3d", "soon"), 1), encoding="utf-8")
    found = problems(folder)
    (warning,) = [p for p in found if "apply to no node" in p.message]
    assert warning.severity == "warning" and warning.file.endswith("informer.yaml")
    (error,) = [p for p in found if "is not a duration" in p.message]
    assert error.line == warning.line and error.node is None


def test_the_default_is_checked_by_the_schema(tmp_path: Path) -> None:
    typo = folder_with(tmp_path / "a", DEFAULT.replace("say:", "sya:"))
    assert any("unknown key 'sya'" in p.message for p in problems(typo))
    empty = folder_with(tmp_path / "b", "nudges: []\nnodes:")  # [] only on a node
    assert [p for p in problems(empty) if p.severity == "error" and "nudges" in p.message]


def test_the_bundled_welcome_and_programme_use_it(bundled: DialogSet) -> None:
    welcome = bundled.flows["welcome"]
    assert welcome.nudges, "welcome has a default"
    waiting = {n.id for n in welcome.nodes.values() if n.nudges is welcome.nudges}
    assert {"curious", "interest", "ready", "quick"} <= waiting
    assert not {"stop_info", "pause", "menu"} & waiting, "end nodes, and the menu's own"
    programme = bundled.flows["programme"]
    assert {n.id for n in programme.nodes.values() if n.nudges is programme.nudges} >= {
        "intro",
        "w1_done",
        "not_yet",
    }
    for week in (1, 2, 3, 4):  # the weekly check-in: a week after, on the week's node
        (check_in, last) = programme.nodes[f"w{week}_wait"].nudges
        assert check_in.after == 7 * DAY and last.after == 7 * DAY


# where a reminder would push: the end of a step, a "no" to helping someone, the advocate's
# reference pages (the toolkit and its cards), "not interested", the WhatsApp aside
NO_REMINDER = {
    "eduquer.done", "eduquer.whatsapp", "informer.not_interested", "viraliser.done",
    "viraliser.adv_later", "viraliser.toolkit", "viraliser.kit_approach",
    "viraliser.kit_prepare", "viraliser.kit_cards", "viraliser.kit_invite",
    "viraliser.card_hidden", "viraliser.card_young", "viraliser.card_point",
    "viraliser.card_scams", "viraliser.card_other",
}  # fmt: skip


def test_every_bundled_node_where_a_person_waits_has_a_reminder(bundled: DialogSet) -> None:
    """Someone who stops anywhere in the journey hears from the bot again, politely,
    except where a reminder would push (those say `nudges: []` on purpose)."""
    silent = {
        f"{flow.id}.{node.id}"
        for flow in bundled.flows.values()
        for node in flow.nodes.values()
        if not node.goto and not node.end and not node.nudges
    }
    # the end of a conversation (welcome.pause, stop_info…) is marked `end: true`
    assert silent == NO_REMINDER

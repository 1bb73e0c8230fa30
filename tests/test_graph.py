"""`vie-coach graph`: the dialogs drawn as DOT and Mermaid, what is wrong marked, how far
people went from a real store, and the command with and without Graphviz's `dot`."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.app.config import load_config
from bot.app.graph_command import INSTALL, dot_available, draft, graph_command
from bot.core.dialogset import DialogSet
from bot.dialogs.graph import LABEL_MAX, Graph, GraphError, build_graph, shorten
from bot.dialogs.graph_text import mermaid_text, to_dot, to_mermaid
from bot.store import SqliteStore
from bot.store.reach import Reach, read_reach
from tests.conftest import MINI, HarnessFactory

# A flow the mini set reaches only through its typed-anywhere rule: `stuck` is a dead
# end, `orphan` is reachable from nowhere, and a label has every character that must be
# escaped in DOT or Mermaid.
EXTRA = r"""
flow: extra
start: begin
on_text:
  - {match: {fr: [bloqué], en: [stuck]}, goto: begin}
nodes:
  begin:
    say: {fr: "On commence ?", en: "Shall we?"}
    buttons:
      - {id: go, label: {fr: 'Aller "loin" [ici] | là #1 \ <ok>', en: "Go"}, goto: stuck}
      # between < and >, unbalanced: read as HTML, it made `dot` fail
      - {id: back, label: {fr: "<<Retour>", en: "<<Back>"}, goto: begin}
  stuck:
    say: {fr: "Et maintenant ?", en: "And now?"}
  orphan:
    say: {fr: "Personne ne vient ici.", en: "Nobody comes here."}
    end: true
"""
_MERMAID_ID = re.compile(r"[A-Za-z0-9_]+")
_MERMAID_EDGE = re.compile(r'^  (\w+) (-->|-\.->)(?:\|"([^"]*)"\|)? (\w+)$')


def broken_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dialogs"
    shutil.copytree(MINI, folder)
    (folder / "extra.yaml").write_text(EXTRA, encoding="utf-8")
    return folder


def no_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH on which there is no `dot` (an empty folder)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert not dot_available()


def check_mermaid(text: str) -> None:
    """What a Mermaid flowchart parser needs: one header, closed subgraphs, safe ids,
    every arrow between declared nodes, no raw quote inside a label."""
    lines = text.splitlines()
    assert lines[1] == "flowchart LR"
    declared = set()
    for line in lines:
        found = re.match(r"^\s+(\w+)(\[|\(\[|\{\{|>)\"", line)
        if found:
            declared.add(found.group(1))
            inner = line[len(found.group(0)) :]
            assert inner.count('"') == 1, f"a raw quote in {line!r}"
    assert sum(1 for x in lines if x.strip().startswith("subgraph ")) == lines.count("  end")
    for line in lines:
        if "-->" in line or "-.->" in line:
            edge = _MERMAID_EDGE.match(line)
            assert edge, f"not an arrow Mermaid reads: {line!r}"
            assert {edge.group(1), edge.group(4)} <= declared, line
    assert all(_MERMAID_ID.fullmatch(name) for name in declared)


def _stands_for(graph: Graph, key: str) -> str:
    node = graph.node(key)
    assert node is not None
    return node.target


def test_the_bundled_dialogs_draw_every_node_and_every_button(bundled: DialogSet) -> None:
    graph = build_graph(bundled)
    dot, mermaid = to_dot(graph), to_mermaid(graph)
    check_mermaid(mermaid)
    arrows = {(e.source, _stands_for(graph, e.target), e.kind): e for e in graph.edges}
    for flow in bundled.flows.values():
        for node in flow.nodes.values():
            assert f'"{node.key}" [label="' in dot
            assert f"    {flow.id}__{node.id}[" in mermaid or f"{flow.id}__{node.id}([" in mermaid
            for button in node.buttons:
                edge = arrows[(node.key, str(button.target), "button")]
                assert len(edge.label) <= LABEL_MAX
                assert f'"{edge.source}" -> "{edge.target}"' in dot
                assert f'-->|"{mermaid_text(edge.label)}"|' in mermaid
    assert not graph.unreachable and not graph.dead_ends  # the bundled set is checked


def test_labels_are_short_and_reminders_say_when_they_come(mini: DialogSet) -> None:
    assert shorten("word " * 20) == "word word word word word word word word…"
    assert len(shorten("x" * 100)) == LABEL_MAX
    graph = build_graph(mini)
    intro = graph.node("informer.intro")
    assert intro is not None and intro.nudges == ("2d", "5d")  # after 2d, then 3d more
    assert "⏰ 2d · 5d" in to_dot(graph) and "⏰ 2d · 5d" in to_mermaid(graph)
    start = graph.node("welcome.start")
    assert start is not None and start.text == "Bonjour {first_name} !" and start.entry
    gotos = {e.label for e in graph.edges if e.kind == "goto"}
    assert gotos == {"if vars.invited", "otherwise", ""}
    typed = [e for e in graph.edges if e.kind == "text"]
    assert typed and typed[0].label == "“info”, “vie privee”"  # keywords as normalised
    assert typed[0].cross_flow and "style=dashed" in to_dot(graph)
    secret = [e for e in graph.edges if "Secret" in e.label]
    assert secret[0].label.startswith("M'informer · Secret [if vars.vip]")


def test_one_flow_shows_where_it_leads_elsewhere_as_stubs(bundled: DialogSet) -> None:
    graph = build_graph(bundled, "informer")
    assert [c.flow for c in graph.clusters] == ["informer"] and graph.focus == "informer"
    inside = [n for n in graph.nodes if n.kind == "node"]
    assert {n.flow for n in inside} == {"informer"}
    assert len(inside) == len(bundled.flows["informer"].nodes)
    stubs = [n for n in graph.nodes if n.kind == "external"]
    assert stubs and all(n.flow != "informer" for n in stubs)
    assert "welcome.menu" in {n.target for n in stubs}
    for edge in graph.edges:
        target = graph.node(edge.target)
        assert target is not None
        assert edge.cross_flow == (target.kind == "external")
    check_mermaid(mermaid := to_mermaid(graph))
    assert '>"→ welcome.menu"]' in mermaid and "→ welcome.menu" in to_dot(graph)
    with pytest.raises(GraphError, match=r"no flow 'nope': the flows are welcome, viraliser, "):
        build_graph(bundled, "nope")


def test_an_unreachable_node_and_a_dead_end_are_marked(tmp_path: Path) -> None:
    dialogs, problems = draft(load_config({}, {}), broken_folder(tmp_path))
    said = " ".join(p.message for p in problems)
    assert "unreachable" in said and "dead end" in said  # what `vie-coach check` says
    graph = build_graph(dialogs)
    assert [n.key for n in graph.unreachable] == ["extra.orphan"]
    assert [n.key for n in graph.dead_ends] == ["extra.stuck"]
    dot = to_dot(graph)
    orphan = next(line for line in dot.splitlines() if line.strip().startswith('"extra.orphan"'))
    stuck = next(line for line in dot.splitlines() if line.strip().startswith('"extra.stuck"'))
    assert "#eeeeee" in orphan and "dashed" in orphan and "#ffebee" in stuck
    assert "unreachable: no path leads here" in dot and "dead end: no way on" in dot
    mermaid = to_mermaid(graph)
    check_mermaid(mermaid)
    assert "class extra__orphan unreachable" in mermaid
    assert "class extra__stuck deadend" in mermaid
    # escaped: DOT's backslash doubled and quote escaped, Mermaid's by entity codes
    assert r"Aller \"loin\" [ici] | là #1 \\ <ok>" in dot
    assert '"Aller #34;loin#34; [ici] #124; là #35;1 #92; #60;ok#62;"' in mermaid
    result = CliRunner().invoke(
        graph_command, ["--dialogs", str(tmp_path / "dialogs"), "--format", "mermaid"]
    )
    assert result.exit_code == 0, result.output
    assert "class extra__orphan unreachable" in result.stdout
    assert "error(s)" in result.stderr and "drawn as far as they could be read" in result.stderr


async def test_stats_count_who_reached_each_node_and_who_stands_there(
    make_harness: HarnessFactory, store: SqliteStore, mini: DialogSet
) -> None:
    zoe, marc, lea = [await make_harness(user_id=i, name=n) for i, n in enumerate("ZML", 1)]
    for person in (zoe, marc, lea):
        await person.send("/start")  # through welcome.start (a goto) to welcome.menu
    await zoe.press("M'informer")  # pressed at welcome.menu, now at informer.intro
    await lea.press("M'informer")
    await lea.press("Vivre caché")  # pressed at informer.intro, now at informer.hidden
    reach = await read_reach(Path(store.path))
    assert isinstance(reach, Reach) and (reach.people, reach.finished) == (3, 0)
    assert reach.at("welcome.menu") == (3, 1)  # two pressed there, Marc stands there
    assert reach.at("informer.intro") == (2, 1)  # Léa pressed there, Zoé stands there
    assert reach.at("informer.hidden") == (1, 1)
    assert reach.at("welcome.start") == (0, 0)  # passed through by goto: nobody waits
    graph = build_graph(mini)
    assert "3 reached · 1 here now" in to_dot(graph, reach)
    mermaid = to_mermaid(graph, reach)
    check_mermaid(mermaid)
    assert 'welcome__menu["menu<br>Par où commencer ?<br>3 reached · 1 here now"]' in mermaid
    here = re.search(r"class (\S+) here\n", mermaid)
    assert here and set(here.group(1).split(",")) == {
        "welcome__menu",
        "informer__intro",
        "informer__hidden",
    }
    assert "3 people (0 finished)" in mermaid
    # the command reads the same database, read-only, beside the open store
    args = ["--dialogs", str(MINI), "--format", "mermaid", "--stats", "--db", store.path]
    result = await asyncio.to_thread(CliRunner().invoke, graph_command, args)
    assert result.exit_code == 0, result.output
    assert "2 reached · 1 here now" in result.stdout


def test_the_command_writes_mermaid_to_standard_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(graph_command, ["--dialogs", str(MINI), "--format", "mermaid"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("%% VIE Coach dialogs: 2 flows, 7 nodes")
    check_mermaid(result.stdout)
    assert result.stderr == ""
    nope = CliRunner().invoke(graph_command, ["--dialogs", str(MINI), "--flow", "nope"])
    assert nope.exit_code == 2
    assert "no flow 'nope': the flows are welcome, informer" in nope.stderr
    args = ["--dialogs", str(MINI), "--stats", "--db", str(tmp_path / "none.db")]
    missing = CliRunner().invoke(graph_command, args)
    assert missing.exit_code == 7 and "none.db: no such database" in missing.stderr
    assert not (tmp_path / "none.db").exists()  # read-only: nothing created


def test_without_dot_an_image_falls_back_to_mermaid_and_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_dot(monkeypatch, tmp_path)
    runner = CliRunner()
    shown = runner.invoke(graph_command, ["--dialogs", str(MINI), "--format", "svg"])
    assert shown.exit_code == 0, shown.output
    assert "flowchart LR" in shown.stdout
    assert len(shown.stderr.splitlines()) == 1
    assert (
        "`dot` is not installed" in shown.stderr and f"install Graphviz: {INSTALL}" in shown.stderr
    )
    svg = tmp_path / "out.svg"
    written = runner.invoke(
        graph_command, ["--dialogs", str(MINI), "--format", "svg", "-o", str(svg)]
    )
    assert written.exit_code == 0, written.output
    assert not svg.exists() and "flowchart LR" in (tmp_path / "out.mmd").read_text("utf-8")
    assert "out.mmd is Mermaid text" in written.stderr
    default = runner.invoke(graph_command, ["--dialogs", str(MINI)])  # no --format: Mermaid
    assert default.exit_code == 0 and "flowchart LR" in default.stdout and default.stderr == ""


@pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's `dot` is not installed (apt-get install graphviz): no SVG to draw",
)
def test_with_dot_an_svg_and_a_png_are_really_drawn(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = broken_folder(tmp_path)  # escaped labels and marked nodes, drawn by dot
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(graph_command, ["--dialogs", str(folder)])  # svg: dot is here
    assert result.exit_code == 0, result.output
    svg = (tmp_path / "dialogs-graph.svg").read_text("utf-8")
    assert "<svg" in svg and "extra.orphan" in svg and "Aller &quot;loin&quot;" in svg
    assert "dialogs-graph.svg: 3 flows, 10 nodes" in result.stdout
    png = runner.invoke(graph_command, ["--dialogs", str(MINI), "--flow", "welcome", "-o", "g.png"])
    assert png.exit_code == 0, png.output
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")

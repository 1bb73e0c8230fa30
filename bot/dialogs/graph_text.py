"""A `Graph` as Graphviz DOT (built with the graphviz library) or as Mermaid text.

Both draw the same: a box per flow; a node's id, first words and reminders; arrows by
kind (button solid, typed text dashed, `goto` dotted, into another flow blue and
thicker, to a stub of that node); unreachable nodes and dead ends in their colours; a
legend; and with `reach`, how many people reached each node and stand there now.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import graphviz  # type: ignore[import-untyped]

from bot.dialogs.graph import EdgeKind, Graph, GraphEdge, GraphNode

RANKDIR = "LR"  # a flow reads left to right; top to bottom made each flow a tall column
FONT = "Helvetica,Arial,sans-serif"
INK, BLUE, PURPLE, GREY = "#37474f", "#1565c0", "#6a1b9a", "#9e9e9e"
RED, GREEN, ORANGE = "#c62828", "#2e7d32", "#ef6c00"
EDGE_STYLE = {"button": "solid", "text": "dashed", "input": "dashed", "goto": "dotted"}
EDGE_COLOUR = {"button": INK, "text": PURPLE, "input": PURPLE, "goto": "#78909c"}
ARROWS: tuple[tuple[EdgeKind, str, bool], ...] = (
    ("button", "button", False),
    ("text", "typed text: intent, “keywords”", False),
    ("goto", "goto, at once: if condition", False),
    ("button", "into another flow", True),
)
REMINDERS = "⏰ 2d · 5d: reminders, counted from arrival"
REACHED = "reached: people who acted at the node or stand there now"


class Reached(Protocol):
    """How many people reached each node and stand there now (`bot.store.reach.Reach`)."""

    @property
    def nodes(self) -> Mapping[str, tuple[int, int]]:
        """ "flow.node" -> (people who reached it, people there now)."""

    @property
    def people(self) -> int:
        """Everyone the store knows."""

    @property
    def finished(self) -> int:
        """Of whom finished the journey."""


def summary(graph: Graph) -> str:
    """ "5 flows, 176 nodes, 718 arrows, 0 unreachable, 0 dead ends"."""
    nodes = sum(1 for n in graph.nodes if n.kind == "node")
    where = f"flow {graph.focus}" if graph.focus else _count(len(graph.clusters), "flow")
    return (
        f"{where}, {_count(nodes, 'node')}, {_count(len(graph.edges), 'arrow')}, "
        f"{len(graph.unreachable)} unreachable, {_count(len(graph.dead_ends), 'dead end')}"
    )


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


def _lines(node: GraphNode, reach: Reached | None) -> list[str]:
    """The lines of a node's label, plain text."""
    if node.kind == "anywhere":
        return ["✱ typed anywhere", f"in {node.flow}"]
    if node.kind == "external":
        return [f"→ {node.target}"]
    if node.kind == "missing":
        return [f"✗ {node.target}", "(no such node)"]
    lines = [("▶ " if node.start else "") + node.id]
    if node.text:
        lines.append(node.text)
    if node.nudges:
        lines.append("⏰ " + " · ".join(node.nudges))
    if reach is not None:
        reached, here = reach.nodes.get(node.key, (0, 0))
        lines.append(f"{reached} reached · {here} here now")
    return lines


def _here(node: GraphNode, reach: Reached | None) -> bool:
    return reach is not None and reach.nodes.get(node.key, (0, 0))[1] > 0


def _title(graph: Graph, reach: Reached | None) -> str:
    people = f", {reach.people} people ({reach.finished} finished)" if reach is not None else ""
    return f"VIE Coach dialogs: {summary(graph)}{people}"


# -- DOT -----------------------------------------------------------------------------------
def _dot_text(text: str) -> str:
    """Plain text for a DOT string: a backslash is an escape there (`\\N` is the node's
    name, a last `\\` would eat the closing quote), so it is doubled; the library quotes
    the rest, and `nohtml` keeps a text between < and > from being read as HTML (an
    unbalanced one, a button labelled `<<Retour>`, made `dot` fail)."""
    return graphviz.nohtml(text.replace("\\", "\\\\"))  # type: ignore[no-any-return]


def _dot_label(lines: list[str]) -> str:
    # nohtml: a label that starts with < and ends with > would be read as HTML
    return graphviz.nohtml("\\n".join(line.replace("\\", "\\\\") for line in lines))  # type: ignore[no-any-return]


def _dot_node_style(node: GraphNode, reach: Reached | None) -> dict[str, str]:
    if node.kind == "anywhere":
        return {"shape": "hexagon", "color": PURPLE, "fillcolor": "#f3e5f5"}
    if node.kind == "external":
        return {"color": BLUE, "fontcolor": BLUE, "fillcolor": "white", "style": "dashed,rounded"}
    if node.kind == "missing":
        return {"shape": "octagon", "color": RED, "fontcolor": RED, "fillcolor": "#ffebee"}
    style = {"color": INK, "fillcolor": "white", "fontcolor": "#263238"}
    if node.end:
        style.update(fillcolor="#e8f5e9", color=GREEN, peripheries="2")
    if node.start:
        style["penwidth"] = "2.5"
    if _here(node, reach):
        style.update(color=ORANGE, penwidth="3")
    if node.unreachable:
        style.update(fillcolor="#eeeeee", color=GREY, fontcolor="#757575")
        style["style"] = "dashed,rounded,filled"
    if node.dead_end:
        style.update(fillcolor="#ffebee", color=RED, fontcolor="#b71c1c", penwidth="2.5")
    return style


def _dot_edge_style(edge: GraphEdge) -> dict[str, str]:
    colour = BLUE if edge.cross_flow else EDGE_COLOUR[edge.kind]
    style = {"style": EDGE_STYLE[edge.kind], "color": colour, "fontcolor": colour}
    if edge.cross_flow:
        style["penwidth"] = "2"
    if edge.detail:
        style.update(tooltip=_dot_text(edge.detail), labeltooltip=_dot_text(edge.detail))
    return style


def to_dot(
    graph: Graph, reach: Reached | None = None, link: Callable[[GraphNode], str] | None = None
) -> str:
    """The graph as DOT source, for `dot -Tsvg`; `link`: each node's address, for an SVG
    whose boxes are links (the console's map)."""
    dot = graphviz.Digraph("dialogs")
    dot.attr(label=_dot_text(_title(graph, reach)), labelloc="t", fontname=FONT, fontsize="16")
    dot.attr(rankdir=RANKDIR, nodesep="0.2", ranksep="0.45")
    dot.attr("node", shape="box", style="rounded,filled", fontname=FONT, fontsize="10")
    dot.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.7")
    nodes = {n.key: n for n in graph.nodes}
    # LR turns dot's left-to-right order of unconnected boxes into bottom-to-top: written
    # last first, the legend and then the entry flow come out on top
    for cluster in reversed(graph.clusters):
        with dot.subgraph(name=f"cluster_{cluster.flow}") as box:
            stage = f" · stage {cluster.stage}" if cluster.stage else ""
            box.attr(label=_dot_text(cluster.flow + stage), style="rounded", color="#b0bec5")
            box.attr(fontsize="14", fontcolor=INK)
            for key in cluster.nodes:
                node = nodes[key]
                tooltip = _dot_text(node.tooltip or node.target)
                box.node(
                    key,
                    _dot_label(_lines(node, reach)),
                    tooltip=tooltip,
                    **_dot_node_style(node, reach),
                    **({"URL": link(node), "target": "_top"} if link is not None else {}),
                )
    for edge in graph.edges:
        label = _dot_label([edge.label]) if edge.label else None
        dot.edge(edge.source, edge.target, label, **_dot_edge_style(edge))
    _dot_legend(dot, graph, reach)
    return str(dot.source)


def _dot_legend(dot: graphviz.Digraph, graph: Graph, reach: Reached | None) -> None:
    samples = [
        (["▶ where a flow starts"], GraphNode("", "", "", "node", start=True)),
        (["a place to stop (end: true)"], GraphNode("", "", "", "node", end=True)),
        (["unreachable: no path leads here"], GraphNode("", "", "", "node", unreachable=True)),
        (["dead end: no way on, not end"], GraphNode("", "", "", "node", dead_end=True)),
        (["→ a node of another flow"], GraphNode("", "", "", "external")),
    ]
    kinds = {n.kind for n in graph.nodes}
    if "missing" in kinds:
        samples.append((["✗ a target that does not exist"], GraphNode("", "", "", "missing")))
    if "anywhere" in kinds:
        samples.append(
            (["✱ typed anywhere: the flow's on_text"], GraphNode("", "", "", "anywhere"))
        )
    notes = [REMINDERS]
    if reach is not None:
        notes += [REACHED, "orange border: someone stands there now"]
    with dot.subgraph(name="cluster__legend") as legend:
        legend.attr(label="Legend", style="rounded", color=GREY, fontsize="14")
        for i, (lines, sample) in enumerate(samples):
            legend.node(f"_legend_{i}", _dot_label(lines), **_dot_node_style(sample, None))
        legend.node("_legend_notes", _dot_label(notes), shape="plaintext", style="")
        for i, (kind, words, cross) in enumerate(ARROWS):
            a, b = f"_legend_from_{i}", f"_legend_to_{i}"
            for end in (a, b):
                legend.node(end, "", shape="point", width="0.05", style="")
            legend.edge(
                a, b, _dot_label([words]), **_dot_edge_style(GraphEdge(a, b, kind, words, cross))
            )


# -- Mermaid -------------------------------------------------------------------------------
# Mermaid's entity codes, for what would end a quoted label or be read as HTML or markdown
_MERMAID_CODES = {c: f"#{ord(c)};" for c in '#"&<>|`\\'}
MERMAID_CLASSES = {
    "start": f"stroke:{INK},stroke-width:3px",
    "ending": f"fill:#e8f5e9,stroke:{GREEN},stroke-width:2px",
    "here": f"stroke:{ORANGE},stroke-width:3px",
    "unreachable": f"fill:#eeeeee,stroke:{GREY},stroke-dasharray:5 3,color:#757575",
    "deadend": f"fill:#ffebee,stroke:{RED},stroke-width:3px,color:#b71c1c",
    "deadunreachable": f"fill:#ffebee,stroke:{RED},stroke-width:3px,stroke-dasharray:5 3",
    "external": f"fill:#ffffff,stroke:{BLUE},stroke-dasharray:4 3,color:{BLUE}",
    "missing": f"fill:#ffebee,stroke:{RED},color:{RED}",
    "anywhere": f"fill:#f3e5f5,stroke:{PURPLE}",
}
_MERMAID_LINKS = {"button": "-->", "text": "-.->", "input": "-.->", "goto": "-.->"}
# Mermaid has one dotted line: linkStyle tells typed text (dashed) from goto (dotted)
_MERMAID_DASH = {"text": "8 4", "input": "8 4", "goto": "2 3"}


def mermaid_text(text: str) -> str:
    """Plain text inside a quoted Mermaid label."""
    return "".join(_MERMAID_CODES.get(c, c) for c in text)


def _safe(text: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in text)


def _mermaid_ids(graph: Graph) -> dict[str, str]:
    """`welcome.start` -> `welcome__start`, a stub `welcome->informer.intro` ->
    `welcome__to__informer__intro`: letters, digits and underscores, each once."""
    ids: dict[str, str] = {}
    for node in graph.nodes:
        base = _safe(node.key.replace("->", "__to__").replace(".", "__").replace("*", "ANY"))
        name, n = base, 1
        while name in ids.values():
            n += 1
            name = f"{base}_{n}"
        ids[node.key] = name
    return ids


def _mermaid_class(node: GraphNode, reach: Reached | None) -> str | None:
    if node.kind != "node":
        return node.kind
    if node.dead_end:
        return "deadunreachable" if node.unreachable else "deadend"
    if node.unreachable:
        return "unreachable"
    if _here(node, reach):
        return "here"
    if node.end:
        return "ending"
    return "start" if node.start else None


def _mermaid_node(name: str, node: GraphNode, reach: Reached | None) -> str:
    label = '"' + "<br>".join(mermaid_text(line) for line in _lines(node, reach)) + '"'
    if node.kind == "anywhere":
        return f"{name}{{{{{label}}}}}"
    if node.kind in ("external", "missing"):
        return f"{name}>{label}]"
    return f"{name}([{label}])" if node.start else f"{name}[{label}]"


def to_mermaid(graph: Graph, reach: Reached | None = None) -> str:
    """The graph as a Mermaid flowchart (GitHub, GitLab and mermaid.live draw it)."""
    ids = _mermaid_ids(graph)
    nodes = {n.key: n for n in graph.nodes}
    out = [f"%% {_title(graph, reach)} (vie-coach graph)", f"flowchart {RANKDIR}"]
    classes: dict[str, list[str]] = {}
    for cluster in graph.clusters:
        stage = f" · stage {cluster.stage}" if cluster.stage else ""
        out.append(f'  subgraph F_{_safe(cluster.flow)}["{mermaid_text(cluster.flow + stage)}"]')
        for key in cluster.nodes:
            out.append("    " + _mermaid_node(ids[key], nodes[key], reach))
            kind = _mermaid_class(nodes[key], reach)
            if kind is not None:
                classes.setdefault(kind, []).append(ids[key])
        out.append("  end")
    looks: dict[str, list[str]] = {}
    for i, edge in enumerate(graph.edges):
        label = f'|"{mermaid_text(edge.label)}"|' if edge.label else ""
        out.append(f"  {ids[edge.source]} {_MERMAID_LINKS[edge.kind]}{label} {ids[edge.target]}")
        look = [f"stroke-dasharray:{_MERMAID_DASH[edge.kind]}"] if edge.kind != "button" else []
        colour = [f"stroke:{BLUE}", "stroke-width:2px"] if edge.cross_flow else []
        look += colour or [f"stroke:{EDGE_COLOUR[edge.kind]}"]
        looks.setdefault(",".join(look), []).append(str(i))
    out.extend(_mermaid_legend(graph, reach))
    out.extend(f"  classDef {kind} {style}" for kind, style in MERMAID_CLASSES.items())
    out.extend(f"  class {','.join(names)} {kind}" for kind, names in classes.items())
    out.extend(f"  linkStyle {','.join(numbers)} {look}" for look, numbers in looks.items())
    return "\n".join(out) + "\n"


def _mermaid_legend(graph: Graph, reach: Reached | None) -> list[str]:
    """A box of samples (Mermaid has no legend of its own), the arrows said in words so
    that the legend adds no arrow to the numbering `linkStyle` counts on."""
    samples = [
        ("L_start", "▶ where a flow starts", "start"),
        ("L_end", "a place to stop (end: true)", "ending"),
        ("L_unreachable", "unreachable: no path leads here", "unreachable"),
        ("L_deadend", "dead end: no way on, not end", "deadend"),
        ("L_external", "→ a node of another flow", "external"),
    ]
    if any(n.kind == "missing" for n in graph.nodes):
        samples.append(("L_missing", "✗ a target that does not exist", "missing"))
    if reach is not None:
        samples.append(("L_here", "someone stands here now", "here"))
    notes = [
        "solid: button · dashed: typed text (intent, “keywords”)",
        "dotted: goto, at once · blue: into another flow",
        REMINDERS,
    ]
    if reach is not None:
        notes.append(REACHED)
    out = ['  subgraph LEGEND["Legend"]']
    out.extend(f'    {name}["{mermaid_text(words)}"]:::{kind}' for name, words, kind in samples)
    out.append('    L_notes["' + "<br>".join(mermaid_text(n) for n in notes) + '"]')
    out.append("  end")
    return out

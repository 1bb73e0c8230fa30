"""The dialogs as a graph to draw: flows, nodes, the ways between them, and what is wrong.

Pure: a `Dialogs` in, a frozen `Graph` out; `graph_text` turns it into DOT or Mermaid.
Reachability and dead ends follow the checker's rules (`checks.py`), so that the picture
marks exactly the nodes `vie-coach check` reports.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bot.core.model import STAGES, Dialogs, Flow, Followup, Node, Target, TextRule
from bot.dialogs.paths import is_dead_end, reachable_from
from bot.errors import VieError

EdgeKind = Literal["button", "text", "goto", "input"]
# a node of the dialogs; a flow's typed-anywhere rules (its top-level `on_text`); a stub
# for a node of another flow; a stub for a target that does not exist
NodeKind = Literal["node", "anywhere", "external", "missing"]
LABEL_MAX = 40  # characters of a label, ellipsis included: a graph is read at a glance
TOOLTIP_MAX = 200
ANYWHERE = "*"  # the id of a flow's typed-anywhere box: no node id can be "*"


class GraphError(VieError):
    """The graph asked for cannot be drawn (a flow that does not exist)."""


@dataclass(frozen=True, slots=True)
class GraphNode:
    key: str  # "flow.node"; "flow.*": its typed-anywhere box; "f.node->g.other": a stub
    flow: str
    id: str
    kind: NodeKind
    text: str = ""  # the first words of its message, in the first language, plain
    tooltip: str = ""  # more of the message, for the SVG's hover text
    start: bool = False  # its flow starts here
    entry: bool = False  # the conversation starts here
    end: bool = False  # `end: true`: a place to stop
    unreachable: bool = False
    dead_end: bool = False
    nudges: tuple[str, ...] = ()  # when each reminder comes, counted from arrival

    @property
    def target(self) -> str:
        """The node it stands for, "flow.node" (a stub's lives in another box)."""
        return f"{self.flow}.{self.id}"


@dataclass(frozen=True, slots=True)
class GraphEdge:
    source: str  # node keys
    target: str
    kind: EdgeKind
    label: str  # at most LABEL_MAX characters
    cross_flow: bool  # leads into another flow
    detail: str = ""  # the words in full (an SVG shows them on hover)


@dataclass(frozen=True, slots=True)
class Cluster:
    flow: str
    stage: str | None
    nodes: tuple[str, ...]  # keys: its typed-anywhere box, its nodes in file order, stubs


@dataclass(frozen=True, slots=True)
class Graph:
    clusters: tuple[Cluster, ...]
    nodes: tuple[GraphNode, ...]  # in the order of the clusters
    edges: tuple[GraphEdge, ...]
    focus: str | None = None  # the one flow drawn, if only one

    def node(self, key: str) -> GraphNode | None:
        return next((n for n in self.nodes if n.key == key), None)

    @property
    def unreachable(self) -> tuple[GraphNode, ...]:
        return tuple(n for n in self.nodes if n.unreachable)

    @property
    def dead_ends(self) -> tuple[GraphNode, ...]:
        return tuple(n for n in self.nodes if n.dead_end)


def ways(node: Node) -> Iterator[tuple[Target, EdgeKind, str]]:
    """Every way out of a node: where it leads, how, and the words on the arrow in full."""
    for button in node.buttons:
        label = _plain(next(iter(button.label.values()), ""), markup=False)
        yield button.target, "button", label + (f" [if {button.when}]" if button.when else "")
    for rule in node.on_text:
        if rule.target is not None:
            yield rule.target, "text", _rule_label(rule)
    for branch in node.goto:
        otherwise = "" if len(node.goto) == 1 else "otherwise"
        yield branch.target, "goto", f"if {branch.condition}" if branch.condition else otherwise
    if node.input is not None:
        yield node.input.target, "input", f"✎ typed {node.input.kind.replace('_', ' ')}"


def reachable(dialogs: Dialogs) -> frozenset[Target]:
    """The nodes some path leads to from the entry or from a typed-anywhere rule (the
    checker's rule: what `vie-coach check` calls unreachable is what is not here)."""
    starts = [dialogs.entry, *(r.target for r in _anywhere(dialogs) if r.target is not None)]
    walked = reachable_from(starts, dialogs.node, lambda node: (t for t, _, _ in ways(node)))
    return frozenset(walked)


def build_graph(dialogs: Dialogs, flow: str | None = None) -> Graph:
    """The graph of every flow, or of `flow` alone; reachability is that of the whole set.

    An arrow into another flow ends at a stub of that node beside the node it leaves (an
    off-page connector): drawn across, the hundreds of arrows back to the menu hid every
    flow's own shape, and doubled the time `dot` takes."""
    flows = in_order(dialogs)
    if flow is not None and flow not in dialogs.flows:
        raise GraphError(
            f"no flow '{flow}': the flows are {', '.join(f.id for f in flows)} "
            "(give one of them to --flow, or none for all)"
        )
    seen = reachable(dialogs)
    first = dialogs.languages[0] if dialogs.languages else ""
    clusters: list[Cluster] = []
    nodes: list[GraphNode] = []
    arrows = _Arrows(dialogs)
    for f in flows:
        if flow is not None and f.id != flow:
            continue
        box: list[GraphNode] = []
        if any(r.target is not None for r in f.on_text):
            anywhere = GraphNode(f"{f.id}.{ANYWHERE}", f.id, ANYWHERE, "anywhere")
            box.append(anywhere)
            for rule in f.on_text:
                if rule.target is not None:
                    arrows.add(f.id, anywhere.key, rule.target, "text", _rule_label(rule))
        for node in f.nodes.values():
            here = Target(f.id, node.id)
            say = _plain(node.say.get(first, next(iter(node.say.values()), "")))
            box.append(
                GraphNode(
                    node.key,
                    f.id,
                    node.id,
                    "node",
                    text=shorten(say),
                    tooltip=shorten(say, TOOLTIP_MAX),
                    start=node.id == f.start,
                    entry=here == dialogs.entry,
                    end=node.end,
                    unreachable=here not in seen,
                    dead_end=is_dead_end(node),
                    nudges=reminder_times(node.nudges),
                )
            )
            for target, kind, label in ways(node):
                arrows.add(f.id, node.key, target, kind, label)
        box.extend(arrows.take_stubs())
        nodes.extend(box)
        clusters.append(Cluster(f.id, f.stage, tuple(n.key for n in box)))
    return Graph(tuple(clusters), tuple(nodes), arrows.edges(), flow)


class _Arrows:
    """The arrows as they are found, and the stubs the current flow's box needs."""

    def __init__(self, dialogs: Dialogs) -> None:
        self.dialogs = dialogs
        self.labels: dict[tuple[str, str, EdgeKind], list[str]] = {}
        self.flows: dict[str, str] = {}  # source key -> its flow
        self.stubs: dict[str, GraphNode] = {}

    def add(self, flow: str, source: str, target: Target, kind: EdgeKind, label: str) -> None:
        key = str(target)
        if target.flow != flow or self.dialogs.node(target) is None:
            key = f"{source}->{target}"
            what: NodeKind = "external" if self.dialogs.node(target) else "missing"
            self.stubs.setdefault(key, GraphNode(key, target.flow, target.node, what))
        self.flows[source] = flow
        labels = self.labels.setdefault((source, key, kind), [])
        if label:
            labels.append(label)

    def take_stubs(self) -> list[GraphNode]:
        stubs, self.stubs = list(self.stubs.values()), {}
        return stubs

    def edges(self) -> tuple[GraphEdge, ...]:
        return tuple(
            GraphEdge(
                source,
                target,
                kind,
                _arrow_label(labels),
                _target_of(target).flow != self.flows[source],
                shorten(" · ".join(dict.fromkeys(labels)), TOOLTIP_MAX),
            )
            for (source, target, kind), labels in self.labels.items()
        )


def _target_of(key: str) -> Target:
    """The node a node key or a stub key stands for."""
    flow, _, node = key.rpartition("->")[2].partition(".")
    return Target(flow, node)


def in_order(dialogs: Dialogs) -> list[Flow]:
    """The flows in the order of the journey: the entry flow, then by stage (V, I, E),
    then the others, each group in file order."""
    stage = {s: i for i, s in enumerate(STAGES)}
    return sorted(
        dialogs.flows.values(),
        key=lambda f: (f.id != dialogs.entry.flow, stage.get(f.stage or "", len(STAGES))),
    )


def _arrow_label(labels: list[str]) -> str:
    """The words of one arrow: ways of one kind between the same two nodes are one arrow
    (a button and the intents of the same answer would otherwise overlap). A condition
    that does not fit is cut to `[if…]`, so that the button's own words stay readable."""
    short = []
    for label in dict.fromkeys(labels):
        words, _, condition = label.partition(" [if ")
        short.append(
            shorten(words, LABEL_MAX - 6) + " [if…]"
            if condition and len(label) > LABEL_MAX
            else label
        )
    return shorten(" · ".join(short))


def _anywhere(dialogs: Dialogs) -> tuple[TextRule, ...]:
    # a `Dialogs` built by hand may leave `anywhere` empty: the flows hold the rules too
    return dialogs.anywhere or tuple(r for f in dialogs.flows.values() for r in f.on_text)


def _rule_label(rule: TextRule) -> str:
    """Intent names as they are, keywords (of the first language) in quotes."""
    words = next(iter(rule.keywords.values()), ())
    return ", ".join([*rule.intents, *(f"“{w}”" for w in words)])


def reminder_times(nudges: tuple[Followup, ...]) -> tuple[str, ...]:
    """When each reminder comes after arrival ("2d", then 3d more: "2d", "5d"); as
    written when a delay does not parse."""
    total, times = timedelta(), []
    for followup in nudges:
        if followup.after is None:
            return tuple(f.after_text for f in nudges)
        total += followup.after
        times.append(_duration(total))
    return tuple(times)


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    return "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n)


_TAG = re.compile(r"<[^>]*>")
_EXPRESSION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_STATEMENT = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.S)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_SPACE = re.compile(r"\s+")


def _plain(template: str, markup: bool = True) -> str:
    """A template's words: `{{ user.first_name }}` becomes `{first_name}`, other
    expressions `…`, an `{% if %}` keeps the words of both branches, and Telegram HTML
    loses its tags (`markup`; a button's label is plain text, its `<` is a `<`)."""

    def expression(match: re.Match[str]) -> str:
        inner = match.group(1).split("|", 1)[0].strip()
        return "{" + inner.rsplit(".", 1)[-1] + "}" if _NAME.fullmatch(inner) else "…"

    text = _STATEMENT.sub(" ", _EXPRESSION.sub(expression, template))
    if markup:
        text = html.unescape(_TAG.sub("", text))
    return _SPACE.sub(" ", text).strip()


def shorten(text: str, limit: int = LABEL_MAX) -> str:
    """At most `limit` characters, cut at a word and ended by an ellipsis if it was longer."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if text[limit - 1] != " " and space > limit // 2:  # not within a word
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"

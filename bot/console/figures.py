"""What each page of the console shows, read from the store and the dialogs served.

Every read is of counters kept by triggers or of an index (the funnel's counters, the
reach and "not understood" counters, the experiments' tallies, a broadcast's recipients
by state), so that a page costs about the same at 100,000 people as at 1,000
(`bench/console.py`). Nothing here names a person: the funnel's groups follow its own
privacy rules (a first name only for an advocate who chose to be public, groups under
five people hidden), and the only words of anyone's shown are the anonymous texts not
understood.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.analytics.abtest import AbResult, ArmCounts, analyse
from bot.core.dialogset import DialogSet
from bot.core.model import Node, Target
from bot.dialogs.graph import Graph, GraphNode, build_graph
from bot.features.operators.records import JobStatus
from bot.store.console_reads import node_reach, top_unknown
from bot.store.experiments import ArmTally, UnknownExperiment, experiment_tallies, tallied_names
from bot.store.funnel import Funnel, read_funnel
from bot.store.opening import SqlStore
from bot.store.versions import Served

UNKNOWN_ROWS = 100  # the "not understood" page: the most frequent texts
NODE_UNKNOWN_ROWS = 20  # on a node's page
# where the people not finished stand now, over every cohort day (one row per day and node)
HERE = "SELECT node, sum(n) FROM funnel_nodes GROUP BY node"
# everyone the store knows (started, less those erased since) and who finished, from the
# funnel's counters over every cohort day
PEOPLE = """SELECT metric, sum(n) FROM funnel_counts WHERE lang = ''
            AND metric IN ('started', 'erased', 's:E') GROUP BY metric"""


@dataclass(frozen=True, slots=True)
class Place:
    """One node of the map and its figures."""

    node: GraphNode
    reached: int  # people who reached it (all time, as the graph's --stats)
    here: int  # people not finished who stand there now
    stopped: int  # of them, those quiet for longer than the funnel's quiet_after

    @property
    def stop_share(self) -> float | None:
        return self.stopped / self.reached if self.reached else None


@dataclass(frozen=True, slots=True)
class DialogMap:
    graph: Graph
    places: tuple[Place, ...]  # in the graph's order (flows, then file order)
    version: str
    funnel: Funnel  # the window the "stopped" counts come from
    people: int = 0  # everyone the store knows
    finished: int = 0  # people who finished the journey

    def flows(self) -> list[tuple[str, list[Place]]]:
        by_flow: dict[str, list[Place]] = {}
        for place in self.places:
            by_flow.setdefault(place.node.flow, []).append(place)
        return list(by_flow.items())


@dataclass(frozen=True, slots=True)
class Unknown:
    node: str
    lang: str
    text: str
    count: int
    nearest: str | None  # the intent the text came nearest to, if any scored
    score: float


@dataclass(frozen=True, slots=True)
class NodeView:
    key: str
    node: Node
    place: Place | None
    texts: Mapping[str, str]  # language -> the node's text, as written (a template)
    variants: tuple[tuple[str, float, Mapping[str, str]], ...]  # arm, weight, texts
    buttons: tuple[tuple[str, Mapping[str, str], str], ...]  # id, labels, "flow.node"
    nudges: tuple[tuple[str, Mapping[str, str]], ...]  # when, texts
    unknown: tuple[Unknown, ...]


@dataclass(frozen=True, slots=True)
class ExperimentView:
    name: str
    node: str | None  # where it is shown, if the dialogs still have it
    outcomes: tuple[str, ...]
    tallies: tuple[ArmTally, ...]
    result: AbResult | None  # None: no one exposed yet
    first: datetime | None
    last: datetime | None


async def funnel(store: SqlStore, now: datetime, days: int, by: str | None) -> Funnel:
    return await read_funnel(store.fetch_all, now, timedelta(days=days), by, top_nodes=10)


async def dialog_map(
    store: SqlStore,
    dialogs: DialogSet,
    now: datetime,
    days: int,
    graphs: MutableMapping[str, Graph] | None = None,
) -> DialogMap:
    """The graph of the dialogs served, with each node's figures (a node's former
    places, `renamed_from`, counted under its name now). `graphs`: the graphs built
    before, by dialog version (building one takes tens of milliseconds)."""
    graph = graphs.get(dialogs.version) if graphs is not None else None
    if graph is None:
        graph = build_graph(dialogs)
        if graphs is not None:
            graphs.clear()  # one version is served at a time
            graphs[dialogs.version] = graph
    window = await read_funnel(store.fetch_all, now, timedelta(days=days), top_nodes=10_000)
    reached = _renamed(await node_reach(store.fetch_all), dialogs.renamed)
    here = _renamed({str(k): int(n) for k, n in await store.fetch_all(HERE) if k}, dialogs.renamed)
    stopped = _renamed(dict(window.drop_off), dialogs.renamed)
    places = tuple(
        Place(n, reached.get(n.key, 0), here.get(n.key, 0), stopped.get(n.key, 0))
        for n in graph.nodes
        if n.key == n.target  # not the typed-anywhere boxes nor the stubs of other flows
    )
    totals = {str(m): int(n) for m, n in await store.fetch_all(PEOPLE)}
    people = totals.get("started", 0) - totals.get("erased", 0)
    return DialogMap(graph, places, dialogs.version, window, people, totals.get("s:E", 0))


def _renamed(counts: Mapping[str, int], moved: Mapping[str, Target]) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, n in counts.items():
        target = moved.get(key)
        where = f"{target.flow}.{target.node}" if target is not None else key
        out[where] = out.get(where, 0) + n
    return out


async def unknown(
    store: SqlStore, dialogs: DialogSet, limit: int = UNKNOWN_ROWS, node: str | None = None
) -> tuple[Unknown, ...]:
    """The texts not understood (kept for `store.keep_unknown`), most frequent first,
    each with the intent it came nearest to."""
    rows = await top_unknown(store.fetch_all, limit, node)
    matcher = dialogs.matcher
    out = []
    for where, lang, text, count in rows:
        nearest, score = None, 0.0
        if matcher is not None:
            guesses = matcher.rank(text, lang, limit=1)
            if guesses:
                nearest, score = guesses[0].intent, guesses[0].score
        out.append(Unknown(where, lang, text, count, nearest, score))
    return tuple(out)


async def node_view(
    store: SqlStore,
    dialogs: DialogSet,
    key: str,
    now: datetime,
    days: int,
    graphs: MutableMapping[str, Graph] | None = None,
) -> NodeView | None:
    flow_id, _, node_id = key.partition(".")
    node = dialogs.node_at(flow_id, node_id)
    if node is None:
        return None
    mapped = await dialog_map(store, dialogs, now, days, graphs)
    place = next((p for p in mapped.places if p.node.key == key), None)
    flow = dialogs.flows[flow_id]
    nudges = node.nudges or flow.nudges
    variants: tuple[tuple[str, float, Mapping[str, str]], ...] = ()
    if node.experiment is not None:
        variants = tuple((a.name, a.weight, a.say) for a in node.experiment.arms)
    return NodeView(
        key=key,
        node=node,
        place=place,
        texts=node.say,
        variants=variants,
        buttons=tuple((b.id, b.label, f"{b.target.flow}.{b.target.node}") for b in node.buttons),
        nudges=tuple((f.after_text or "", f.say) for f in nudges),
        unknown=await unknown(store, dialogs, NODE_UNKNOWN_ROWS, key),
    )


async def experiments(store: SqlStore, dialogs: DialogSet) -> tuple[ExperimentView, ...]:
    """Every experiment of the dialogs served, and any other with exposures."""
    names = sorted(set(dialogs.experiments) | set(await tallied_names(store.fetch_all)))
    return tuple([await _experiment(store, dialogs, name) for name in names])


async def _experiment(store: SqlStore, dialogs: DialogSet, name: str) -> ExperimentView:
    defined = dialogs.experiments.get(name)
    weights = None if defined is None else {a.name: a.weight for a in defined.arms}
    try:
        counts = await experiment_tallies(store.fetch_all, name)
    except UnknownExperiment:
        outcomes = () if defined is None else (defined.outcome,)
        return ExperimentView(
            name, defined.node if defined else None, outcomes, (), None, None, None
        )
    tallies = _ordered(counts.arms, weights)
    result = analyse([ArmCounts(t.arm, t.exposures, t.conversions) for t in tallies], weights)
    return ExperimentView(
        name,
        defined.node if defined else None,
        counts.outcomes,
        tuple(tallies),
        result,
        counts.first,
        counts.last,
    )


def _ordered(arms: Sequence[ArmTally], weights: Mapping[str, float] | None) -> list[ArmTally]:
    """The arms in the dialogs' order (the first is the control), those seen but no
    longer defined after them; an arm defined but not seen yet with zeros."""
    seen = {a.arm: a for a in arms}
    order = list(weights or ())
    tallies = [seen.pop(arm, ArmTally(arm, 0, 0, 0)) for arm in order]
    return tallies + sorted(seen.values(), key=lambda a: a.arm)


async def broadcast(store: SqlStore) -> JobStatus | None:
    """The active broadcast, else the last one."""
    return await store.broadcasts.status()


async def versions(store: SqlStore, limit: int = 30) -> list[Served]:
    return await store.versions.history(limit)

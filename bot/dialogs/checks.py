"""Checks a schema cannot express: targets, reachability, dead ends, templates, limits.

Every check appends to the same problem list, so that an operator sees all mistakes at
once. Each walk is linear in the number of nodes and edges.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from bot.core.dialogset import DialogSet
from bot.core.engine import CORE_LENGTHS, CORE_MESSAGES
from bot.core.feature import Feature
from bot.core.links import MAX_URL_LENGTH
from bot.core.model import STAGES, Node, Target, TextRule
from bot.core.render import Renderer
from bot.dialogs.intent_checks import check_intents
from bot.dialogs.parse import Built, Parsed
from bot.dialogs.paths import is_dead_end, reachable_from
from bot.dialogs.rename_checks import renames
from bot.dialogs.variant_checks import VariantChecks
from bot.errors import Problem
from bot.understanding import Intent, Matcher

MAX_LABEL = 64


class _Checker(VariantChecks):
    def __init__(
        self,
        built: Built,
        parsed: Parsed,
        languages: Sequence[str],
        renderer: Renderer,
        features: Sequence[Feature],
    ):
        self.built, self.languages, self.renderer = built, languages, renderer
        self.problems = parsed.problems
        # what the engine and the features need: messages, their values, variables
        self.required: dict[str, frozenset[str]] = dict(CORE_MESSAGES)
        self.extra_lengths: dict[tuple[str, ...], int] = dict(CORE_LENGTHS)
        self.variables: dict[str, int] = {}  # name -> longest value
        for feature in features:
            self.required.update(feature.messages)
            for key, length in feature.lengths.items():
                self.extra_lengths[key] = max(length, self.extra_lengths.get(key, 0))
            for name, length in feature.variables.items():
                self.variables[name] = max(length, self.variables.get(name, 0))
        for node in self.nodes():
            rules = [*node.on_text, *self.built.flows[node.flow].on_text]
            for sets in [node.set, *(b.set for b in node.buttons), *(r.set for r in rules)]:
                for name, value in sets.items():
                    self.variables[name] = max(self.variables.get(name, 0), len(str(value)))
            if node.input is not None:  # a typed link: as long as a link may be
                self.variables[node.input.save] = MAX_URL_LENGTH

    # -- structure ---------------------------------------------------------------
    def resolves(
        self, node: Node | None, target: Target, line: int, what: str, file: str | None = None
    ) -> bool:
        if target.flow in self.built.broken_flows:
            return False  # already reported by the schema; do not pile up
        flow = self.built.flows.get(target.flow)
        if flow is None:
            self.add(node, line, f"{what} leads to unknown flow '{target.flow}' ({target})", file)
            return False
        if target.node not in flow.nodes:
            self.add(node, line, f"{what} leads to unknown node '{target}'", file)
            return False
        return True

    def anywhere(self) -> list[TextRule]:
        return [rule for flow in self.built.flows.values() for rule in flow.on_text]

    def edges(self, node: Node) -> Iterator[tuple[Target, int, str]]:
        for b in node.buttons:
            yield b.target, b.line, f"button '{b.id}'"
        for r in node.on_text:
            if r.target is not None:
                yield r.target, r.line, "on_text rule"
        src = self.built.sources[node.flow]
        for i, branch in enumerate(node.goto):
            yield branch.target, src.line("nodes", node.id, "goto", i), "goto"
        if node.input is not None:
            yield node.input.target, node.input.line, "input"

    def structure(self) -> None:
        for flow in self.built.flows.values():
            if flow.start not in flow.nodes:
                self.add(
                    None,
                    self.built.sources[flow.id].line("start"),
                    f"start node '{flow.start}' of flow '{flow.id}' does not exist",
                    flow.file,
                )
        for flow in self.built.flows.values():
            for rule in flow.on_text:
                if rule.target is not None:
                    self.resolves(
                        None, rule.target, rule.line, "flow-level on_text rule", flow.file
                    )
        for node in self.nodes():
            src = self.built.sources[node.flow]
            seen: set[str] = set()
            for b in node.buttons:
                if b.id in seen:
                    self.add(node, b.line, f"duplicate button id '{b.id}'")
                seen.add(b.id)
            for target, line, what in self.edges(node):
                self.resolves(node, target, line, what)
            if node.goto and (node.buttons or node.on_text):
                self.add(
                    node,
                    src.line("nodes", node.id, "goto"),
                    "'goto' continues at once, so 'buttons' and 'on_text' would never be used",
                )
            for i, branch in enumerate(node.goto):
                last = i == len(node.goto) - 1
                if last and branch.condition is not None:
                    self.add(
                        node,
                        src.line("nodes", node.id, "goto", i),
                        "the last arm of 'goto' must have no 'if' (it is the 'otherwise')",
                    )
                if not last and branch.condition is None:
                    self.add(
                        node,
                        src.line("nodes", node.id, "goto", i),
                        "only the last arm of 'goto' may have no 'if'",
                    )
            if is_dead_end(node):
                self.add(
                    node, node.line, "dead end: no buttons, goto or on_text, and not 'end: true'"
                )
            if node.input is not None:
                self.answer(node)
            if node.completes and self.built.flows[node.flow].stage is None:
                self.add(
                    node,
                    src.line("nodes", node.id, "completes"),
                    f"'completes' needs a stage on flow '{node.flow}'",
                )
            if (
                node.fact is not None
                and node.fact not in self.built.facts
                and not self.built.broken_facts
            ):
                self.add(node, src.line("nodes", node.id, "fact"), f"unknown fact '{node.fact}'")

    def answer(self, node: Node) -> None:
        spec = node.input
        assert spec is not None
        if node.goto:
            self.add(node, spec.line, "'input' on a node with 'goto': it never waits for it")
        if not node.buttons:
            self.add(node, spec.line, "'input' needs a button too (to skip the exercise)")
        if spec.kind == "short_url":
            if not spec.shorteners:
                self.add(node, spec.line, "'input' of kind short_url needs 'shorteners'")
            if spec.of is None:
                self.add(node, spec.line, "'input' of kind short_url needs 'of' (the long link)")
            elif spec.of not in self.saved_links():
                self.add(node, spec.line, f"'of: {spec.of}' is kept by no 'input' of kind url")
        elif spec.of is not None or spec.shorteners:
            self.add(node, spec.line, "'of' and 'shorteners' are for kind short_url only")

    def saved_links(self) -> set[str]:
        return {n.input.save for n in self.nodes() if n.input is not None and n.input.kind == "url"}

    def reachability(self, entry_flow: str) -> None:
        flows = self.built.flows
        if entry_flow not in flows:
            if entry_flow not in self.built.broken_flows:
                self.problems.append(
                    Problem("dialogs", 0, None, f"entry flow '{entry_flow}' does not exist")
                )
            return
        start = Target(entry_flow, flows[entry_flow].start)
        anywhere = [rule.target for rule in self.anywhere() if rule.target is not None]
        seen = reachable_from(
            [start, *anywhere], self._get, lambda node: (t for t, _, _ in self.edges(node))
        )
        if self.built.broken_flows:
            return  # edges into broken flows are unknown: reachability would mislead
        for node in self.nodes():
            if Target(node.flow, node.id) not in seen:
                self.add(node, node.line, f"unreachable: no path leads here from '{start}'")

    def _get(self, target: Target) -> Node | None:
        flow = self.built.flows.get(target.flow)
        return None if flow is None else flow.nodes.get(target.node)

    def goto_loops(self) -> None:
        """A cycle made only of `goto` arms would send messages forever."""
        state: dict[Target, int] = {}  # 1 = on the current path, 2 = done
        for node in self.nodes():
            root = Target(node.flow, node.id)
            if root in state:
                continue
            stack: list[tuple[Target, Iterator[Target]]] = [(root, self._goto_targets(node))]
            state[root] = 1
            while stack:
                here, children = stack[-1]
                child = next(children, None)
                if child is None:
                    state[here] = 2
                    stack.pop()
                    continue
                child_node = self._get(child)
                if child_node is None:
                    continue
                if state.get(child) == 1:
                    self.add(
                        child_node,
                        child_node.line,
                        f"'goto' loop: {' -> '.join(str(t) for t, _ in stack)} -> {child} never waits for the user",
                    )
                elif child not in state:
                    state[child] = 1
                    stack.append((child, self._goto_targets(child_node)))

    @staticmethod
    def _goto_targets(node: Node) -> Iterator[Target]:
        return iter([b.target for b in node.goto])

    def default_nudges(self) -> None:
        """A flow's default `nudges:` is checked with the nodes that use it (its problems
        said once, by `_once_per_default`); a default that no node uses is said so."""
        for flow in self.built.flows.values():
            if not flow.nudges or any(n.nudges is flow.nudges for n in flow.nodes.values()):
                continue
            for followup in flow.nudges:
                if followup.after is None:
                    self.add(None, followup.line, f"nudge: 'after: {followup.after_text}' is "
                             "not a duration such as 30m, 3h, 2d or 1w", flow.file)  # fmt: skip
            self.problems.append(
                Problem(flow.file, flow.nudges[0].line, None,
                        f"the default 'nudges' of flow '{flow.id}' apply to no node: every "
                        "node that waits for the person has its own 'nudges:' (or none "
                        "waits, or each has 'goto' or 'end: true')", "warning")
            )  # fmt: skip

    def facts(self) -> None:
        if (
            self.built.facts_source is None
            and not self.built.broken_facts
            and any(n.fact for n in self.nodes())
        ):
            self.problems.append(
                Problem("dialogs", 0, None, "nodes use facts but there is no facts file")
            )


def _once_per_default(built: Built, problems: list[Problem]) -> None:
    """A mistake in a flow's default `nudges:` is found at every node that uses it: keep
    it once, at its own line, saying how many nodes share it."""
    for flow in built.flows.values():
        users = [n for n in flow.nodes.values() if flow.nudges and n.nudges is flow.nudges]
        if not users:
            continue
        lines = {followup.line for followup in flow.nudges}
        seen: set[tuple[int, str, str]] = set()
        kept = []
        for p in problems:
            if p.file != flow.file or p.line not in lines or p.node is None:
                kept.append(p)
                continue
            if (p.line, p.message, p.severity) not in seen:
                seen.add((p.line, p.message, p.severity))
                nodes = "1 node" if len(users) == 1 else f"{len(users)} nodes"
                shared = f" (the flow's default 'nudges', used by {nodes})"
                kept.append(replace(p, node=None, message=p.message + shared))
        problems[:] = kept


def stale_facts(dialogs: DialogSet, year: int, max_age: int) -> list[Problem]:
    """Warnings for facts older than `max_age` years in `year`: figures age, and a
    reluctant reader who catches one outdated number stops trusting the rest.

    A fact `reviewed:` less than a year ago (someone checked that it still holds) stays
    quiet; once the year is over, the warning comes back and says when it was last
    reviewed. "Today" is today's day and month in `year`. A review dated after today
    silences nothing: it is a typing mistake, and said so."""
    from datetime import date  # only this check reads the calendar

    now = date.today()
    try:
        today = now.replace(year=year)
    except ValueError:  # 29 February, in a year without one
        today = now.replace(year=year, day=28)
    problems = []
    for fact in dialogs.facts.values():
        if year - fact.year <= max_age:
            continue
        old = f"fact '{fact.id}' dates from {fact.year}, more than {max_age} years ago"
        reviewed = fact.reviewed
        if reviewed is None:
            advice = (
                "check that it still holds, then refresh it, or write "
                f"`reviewed: {today.isoformat()}` under it to quiet this for a year "
                "(or raise bot.fact_max_age)"
            )
        elif reviewed > today:
            advice = (
                f"its `reviewed: {reviewed.isoformat()}` is a day still to come, so it "
                "quiets nothing: write the day it was really checked"
            )
        elif (today - reviewed).days < 365:
            continue  # checked within the year: acknowledged
        else:
            advice = (
                f"last reviewed on {reviewed.isoformat()}, over a year ago: check it "
                f"again, then refresh it or update `reviewed:` to {today.isoformat()}"
            )
        problems.append(Problem(fact.file, fact.line, None, f"{old}: {advice}", "warning"))
    return problems


def run_checks(
    built: Built,
    parsed: Parsed,
    languages: Sequence[str],
    entry_flow: str,
    renderer: Renderer,
    version: str,
    features: Sequence[Feature] = (),
) -> DialogSet | None:
    """Run every check; return the DialogSet when it could be assembled at all."""
    checker = _Checker(built, parsed, languages, renderer, features)
    checker.structure()
    checker.reachability(entry_flow)
    checker.goto_loops()
    lengths = checker.lengths()
    checker.node_texts(lengths)
    checker.messages(lengths)
    checker.typography()
    checker.facts()
    check_intents(built, languages, checker.problems)
    checker.default_nudges()
    experiments = checker.experiments()
    _once_per_default(built, checker.problems)
    renamed = renames(built, checker.problems)
    if entry_flow not in built.flows:
        return None
    milestone_stage: dict[str, str] = {}
    for flow in built.flows.values():
        for node in flow.nodes.values():
            if node.milestone and flow.stage:
                milestone_stage[node.milestone] = flow.stage
    totals = {s: sum(1 for v in milestone_stage.values() if v == s) for s in STAGES}
    matcher = None
    if built.intents:
        matcher = Matcher(
            [Intent(i.name, i.examples) for i in built.intents.values()], tuple(languages)
        )
    return DialogSet(
        intents=dict(built.intents),
        matcher=matcher,
        flows=dict(built.flows),
        facts=dict(built.facts),
        messages=dict(built.messages),
        languages=tuple(languages),
        entry=Target(entry_flow, built.flows[entry_flow].start),
        version=version,
        renderer=renderer,
        variables=frozenset(checker.variables),
        anywhere=tuple(checker.anywhere()),
        milestone_stage=milestone_stage,
        stage_totals=totals,
        renamed=renamed,
        experiments=experiments,
        features=tuple(features),
    )

"""Checks of the experiments (a `say:` with variants) that need the whole dialog set.

- Every variant's text is checked exactly as a node's `say:` is (its names, its work and
  length bounded with the node's fact line, French typography), each at its own line and
  named `say.variants.<name>.<lang>`. The node keeps its first variant as its `say`, which
  the template checks see as any node's text: their findings on it are set aside, since
  the variant's own check says the same at the variant's line.
- An experiment's name is unique in the whole set (the exposure events and the report
  know an experiment by its name alone).
- A milestone outcome is the `milestone:` of some node.
- A warning when no path from the experiment's node leads to its outcome (its buttons,
  typed rules, `goto` and typed answers, and the flows' `on_text`): nobody shown it could
  convert, whatever the wording; and when its own node gives the outcome: everyone shown
  it has converted at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bot.core.model import Arm, Experiment, Node, Target, TextRule
from bot.dialogs import templates
from bot.dialogs.paths import reachable_from
from bot.dialogs.typography_checks import TypographyChecks
from bot.errors import Problem


class VariantChecks(TypographyChecks):
    """The experiments' half of the checker (mixed into it, before the typography)."""

    if TYPE_CHECKING:  # the checker's own (`checks._Checker`), declared for the type checker

        def edges(self, node: Node) -> Iterator[tuple[Target, int, str]]: ...

        def anywhere(self) -> list[TextRule]: ...

    def experiment_nodes(self) -> Iterator[tuple[Node, Experiment]]:
        for node in self.nodes():
            if node.experiment is not None:
                yield node, node.experiment

    def say_line(self, node: Node, lang: str) -> int:
        """Where the template checks report the node's `say` in `lang`: for a node with
        variants, the line of `say:` itself."""
        return self.built.sources[node.flow].line("nodes", node.id, "say", lang)

    def arm_line(self, node: Node, arm: Arm, lang: str) -> int:
        """The line of a variant's text in `lang` (its own line, written as a block)."""
        src = self.built.sources[node.flow]
        return src.line("nodes", node.id, "say", "variants", arm.name, lang)

    # -- the texts -------------------------------------------------------------------
    def node_texts(self, lengths: dict[tuple[str, ...], int]) -> None:
        start = len(self.problems)
        super().node_texts(lengths)
        first_arm = {
            (self.built.flows[node.flow].file, self.say_line(node, lang), node.id, lang)
            for node, _ in self.experiment_nodes()
            for lang in self.languages
        }
        self.problems[start:] = [
            p
            for p in self.problems[start:]
            if not any(
                (p.file, p.line, p.node, lang) in first_arm and p.message.startswith(f"say.{lang}")
                for lang in self.languages
            )
        ]
        table = templates.Table(lengths)
        fact_line = self.built.messages.get("fact_line", {})
        for node, experiment in self.experiment_nodes():
            for arm in experiment.arms:
                for lang in self.languages:
                    what, line = f"say.variants.{arm.name}.{lang}", self.arm_line(node, arm, lang)
                    ast, errors = self.template(arm.say[lang], frozenset())
                    for e in errors:
                        self.add(node, line, f"{what}: {e}")
                    extra = 0
                    if node.fact and lang in fact_line:
                        fact_ast = self._parse_quiet(fact_line[lang])
                        extra = 2 + (self.bounds(fact_ast, table).length if fact_ast else 0)
                    self.bounded(node, line, what, ast, table, extra=extra)

    def _texts(self, lang: str) -> Iterator[tuple[str | None, str, int, str, str]]:
        """Every text the typography warnings read: a node's variants in place of the
        first variant it keeps as its `say`."""
        arms: dict[tuple[str, int, str | None], tuple[Node, Experiment]] = {
            (self.built.flows[node.flow].file, self.say_line(node, lang), node.id): (node, e)
            for node, e in self.experiment_nodes()
        }
        for found in super()._texts(lang):
            node_id, file, line, what, _ = found
            variants = arms.get((file, line, node_id)) if what == f"say.{lang}" else None
            if variants is None:
                yield found
                continue
            node, experiment = variants
            for arm in experiment.arms:
                what = f"say.variants.{arm.name}.{lang}"
                yield node.id, file, self.arm_line(node, arm, lang), what, arm.say[lang]

    # -- the experiments ---------------------------------------------------------------
    def experiments(self) -> dict[str, Experiment]:
        """Check names, outcomes and whether the outcome can follow; the experiments by
        name (the first of a name, when two share it)."""
        found: dict[str, Experiment] = {}
        milestones = {n.milestone for n in self.nodes() if n.milestone}
        complete = not self.built.broken_flows  # else a milestone may be in a broken flow
        for node, experiment in self.experiment_nodes():
            first = found.get(experiment.name)
            if first is not None:
                self.add(
                    node,
                    experiment.line,
                    f"experiment '{experiment.name}' is already at {first.node} (line "
                    f"{first.line}): give each experiment its own name",
                )
                continue
            found[experiment.name] = experiment
            wanted = experiment.milestone
            if wanted is not None and wanted not in milestones:
                if complete and wanted:
                    known = ", ".join(sorted(milestones)) or "none"
                    self.add(
                        node,
                        experiment.outcome_line,
                        f"experiment '{experiment.name}': no node has `milestone: {wanted}` "
                        f"(milestones: {known})",
                    )
                continue
            if complete:
                self.reaches_outcome(node, experiment)
        return found

    def converts(self, node: Node, experiment: Experiment) -> bool:
        """Whether reaching `node` gives the experiment's outcome."""
        if experiment.milestone is not None:
            return node.milestone == experiment.milestone
        stage = self.built.flows[node.flow].stage
        return node.completes and stage is not None and stage == experiment.stage

    def reaches_outcome(self, node: Node, experiment: Experiment) -> None:
        name, outcome = experiment.name, experiment.outcome
        if self.converts(node, experiment):
            self.problems.append(
                Problem(self.built.flows[node.flow].file, experiment.outcome_line, node.id,
                        f"experiment '{name}': its own node gives {outcome}, so everyone "
                        "shown a variant has converted already: name an outcome that comes "
                        "after it", "warning")
            )  # fmt: skip
            return
        onward = [t for t, _, _ in self.edges(node)]
        onward += [rule.target for rule in self.anywhere() if rule.target is not None]
        after = reachable_from(onward, self._node_of, lambda n: (t for t, _, _ in self.edges(n)))
        if not any(self.converts(n, experiment) for t in after if (n := self._node_of(t))):
            self.problems.append(
                Problem(self.built.flows[node.flow].file, experiment.outcome_line, node.id,
                        f"experiment '{name}': no path from this node leads to {outcome}, so "
                        "nobody shown a variant can convert: name an outcome that can follow",
                        "warning")
            )  # fmt: skip

    def _node_of(self, target: Target) -> Node | None:
        flow = self.built.flows.get(target.flow)
        return None if flow is None else flow.nodes.get(target.node)

"""Checks a schema cannot express: targets, reachability, dead ends, templates, limits.

Every check appends to the same problem list, so that an operator sees all mistakes at
once. Each walk is linear in the number of nodes and edges.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.nodes import Template

from bot.core.callback import MAX_CALLBACK_BYTES, encode_dialog
from bot.core.dialogset import DialogSet
from bot.core.engine import CORE_LENGTHS, CORE_MESSAGES
from bot.core.feature import Feature
from bot.core.links import MAX_URL_LENGTH
from bot.core.model import STAGES, Node, Target, TextRule
from bot.core.render import TELEGRAM_TEXT_LIMIT, Renderer
from bot.dialogs import templates
from bot.dialogs.bounds import PROGRESS_FIELDS, USER_FIELDS, too_long, value_lengths
from bot.dialogs.intent_checks import check_intents
from bot.dialogs.parse import Built, Parsed
from bot.errors import Problem
from bot.understanding import Intent, Matcher

MAX_LABEL = 64


class _Checker:
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

    def nodes(self) -> Iterator[Node]:
        for flow in self.built.flows.values():
            yield from flow.nodes.values()

    def add(self, node: Node | None, line: int, message: str, file: str | None = None) -> None:
        where = file or (self.built.flows[node.flow].file if node else "?")
        self.problems.append(Problem(where, line, node.id if node else None, message))

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
            if not (node.buttons or node.on_text or node.goto or node.end or node.input):
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
        seen: set[Target] = set()
        todo = [start, *(rule.target for rule in self.anywhere() if rule.target is not None)]
        while todo:
            here = todo.pop()
            node = self._get(here)
            if node is None or here in seen:
                continue
            seen.add(here)
            todo.extend(t for t, _, _ in self.edges(node))
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

    # -- templates ----------------------------------------------------------------
    def lengths(self) -> dict[tuple[str, ...], int]:
        return {**value_lengths(self.variables, self.built.facts.values()), **self.extra_lengths}

    def names_ok(self, usage: templates.Usage, extra: frozenset[str]) -> list[str]:
        errors = []
        allowed = {"user", "vars", "progress"} | extra
        for name in sorted(usage.names - allowed):
            errors.append(f"unknown variable '{name}'")
        for path in sorted(usage.paths):
            head = path[0]
            if head == "user" and path[1] not in USER_FIELDS:
                errors.append(f"unknown variable 'user.{path[1]}' (known: first_name, lang)")
            elif head == "vars" and path[1] not in self.variables:
                errors.append(f"unknown variable 'vars.{path[1]}' (no 'set:' defines it)")
            elif head == "progress" and (
                path[1] not in STAGES or (len(path) > 2 and path[2] not in PROGRESS_FIELDS)
            ):
                errors.append(
                    f"unknown variable '{'.'.join(path)}' (progress.V/I/E.reached/total/done)"
                )
        return errors

    def template(self, source_text: str, extra: frozenset[str]) -> tuple[Any, list[str]]:
        try:
            # Parsing finds every syntax error; compiling waits for the first render.
            ast = self.renderer.env.parse(source_text)
        except TemplateSyntaxError as exc:
            return None, [f"template syntax error: {exc.message} (template line {exc.lineno})"]
        return ast, self.names_ok(templates.usage(self.renderer.env, ast), extra)

    def condition(self, expr: str) -> list[str]:
        try:
            self.renderer.condition(expr)
            ast = self.renderer.env.parse("{{ " + expr + " }}")
        except TemplateSyntaxError as exc:
            return [f"condition {expr!r}: syntax error: {exc.message}"]
        return [
            f"condition {expr!r}: {e}"
            for e in self.names_ok(templates.usage(self.renderer.env, ast), frozenset())
        ]

    def node_texts(self, lengths: dict[tuple[str, ...], int]) -> None:
        fact_line = self.built.messages.get("fact_line", {})
        for node in self.nodes():
            src = self.built.sources[node.flow]
            for lang in self.languages:
                line = src.line("nodes", node.id, "say", lang)
                ast, errors = self.template(node.say[lang], frozenset())
                for e in errors:
                    self.add(node, line, f"say.{lang}: {e}")
                if ast is None:
                    continue
                bound = templates.max_length(ast, lengths)
                if node.fact and lang in fact_line:
                    fact_ast = self._parse_quiet(fact_line[lang])
                    bound += 2 + (templates.max_length(fact_ast, lengths) if fact_ast else 0)
                if bound > TELEGRAM_TEXT_LIMIT:
                    self.add(node, line, f"say.{lang} {too_long(bound)}")
            for b in node.buttons:
                data = encode_dialog(node.version, node.flow, node.id, b.id)
                if len(data.encode()) > MAX_CALLBACK_BYTES:
                    self.add(
                        node,
                        b.line,
                        f"button '{b.id}': its data {data!r} is {len(data.encode())} bytes "
                        f"(Telegram allows {MAX_CALLBACK_BYTES}); shorten the flow, node or button id",
                    )
                for lang in self.languages:
                    if len(b.label[lang]) > MAX_LABEL:
                        self.add(
                            node,
                            b.line,
                            f"button '{b.id}': label.{lang} is over {MAX_LABEL} characters",
                        )
                if b.when:
                    for e in self.condition(b.when):
                        self.add(node, b.line, f"button '{b.id}': {e}")
            for followup in node.nudges:
                if followup.after is None:
                    self.add(node, followup.line, f"nudge: 'after: {followup.after_text}' is not a "
                             "duration such as 30m, 3h, 2d or 1w")  # fmt: skip
                for lang in self.languages:
                    ast, errors = self.template(followup.say[lang], frozenset())
                    for e in errors:
                        self.add(node, followup.line, f"nudge say.{lang}: {e}")
                    if (
                        ast is not None
                        and (bound := templates.max_length(ast, lengths)) > TELEGRAM_TEXT_LIMIT
                    ):
                        self.add(node, followup.line, f"nudge say.{lang} {too_long(bound)}")
            if node.nudges and node.end and not node.buttons:
                self.add(
                    node, node.nudges[0].line, "a nudge on an end node would remind of nothing"
                )
            if node.nudges and node.goto:
                self.add(node, node.nudges[0].line, "nudges on a node with 'goto' are never sent: "
                         "the conversation moves on at once (put them on the node it stops at)")  # fmt: skip
            for i, branch in enumerate(node.goto):
                if branch.condition:
                    for e in self.condition(branch.condition):
                        self.add(node, src.line("nodes", node.id, "goto", i), e)
            for rule in node.on_text:
                self.reply(node, rule, lengths, src.path)
        for flow in self.built.flows.values():
            for rule in flow.on_text:
                self.reply(None, rule, lengths, flow.file)

    def reply(
        self, node: Node | None, rule: TextRule, lengths: dict[tuple[str, ...], int], file: str
    ) -> None:
        """A text rule's `say:` (a reply that stays on the node) is checked like a node's."""
        for lang in self.languages if rule.reply is not None else ():
            assert rule.reply is not None
            ast, errors = self.template(rule.reply[lang], frozenset())
            for e in errors:
                self.add(node, rule.line, f"on_text say.{lang}: {e}", file)
            if (
                ast is not None
                and (bound := templates.max_length(ast, lengths)) > TELEGRAM_TEXT_LIMIT
            ):
                self.add(node, rule.line, f"on_text say.{lang} {too_long(bound)}", file)

    def _parse_quiet(self, text: str) -> Template | None:
        try:
            return self.renderer.env.parse(text)
        except TemplateSyntaxError:
            return None

    def messages(self, lengths: dict[tuple[str, ...], int]) -> None:
        src = self.built.messages_source
        if src is None:
            self.problems.append(
                Problem("dialogs", 0, None, "no messages file (a file with 'messages:')")
            )
            return
        if not src.valid:
            return
        for key in self.required:
            if key not in self.built.messages:
                self.add(None, src.line("messages"), f"missing bot message '{key}'", src.path)
        for key, texts in self.built.messages.items():
            if key not in self.required:
                self.problems.append(
                    Problem(
                        src.path,
                        src.line("messages", key),
                        None,
                        f"unknown bot message '{key}' (never used)",
                        "warning",
                    )
                )
                continue
            for lang in self.languages:
                line = src.line("messages", key, lang)
                ast, errors = self.template(texts[lang], self.required[key])
                for e in errors:
                    self.add(None, line, f"message '{key}'.{lang}: {e}", src.path)
                if (
                    ast is not None
                    and (bound := templates.max_length(ast, lengths)) > TELEGRAM_TEXT_LIMIT
                ):
                    self.add(None, line, f"message '{key}'.{lang} {too_long(bound)}", src.path)

    def facts(self) -> None:
        if (
            self.built.facts_source is None
            and not self.built.broken_facts
            and any(n.fact for n in self.nodes())
        ):
            self.problems.append(
                Problem("dialogs", 0, None, "nodes use facts but there is no facts file")
            )


def stale_facts(dialogs: DialogSet, year: int, max_age: int) -> list[Problem]:
    """Warnings for facts older than `max_age` years in `year`: figures age, and a
    reluctant reader who catches one outdated number stops trusting the rest."""
    return [
        Problem(
            fact.file,
            fact.line,
            None,
            f"fact '{fact.id}' is a {fact.year} figure, more than {max_age} years old: check "
            "that it still holds and refresh it (or raise bot.fact_max_age)",
            "warning",
        )
        for fact in dialogs.facts.values()
        if year - fact.year > max_age
    ]


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
    checker.facts()
    check_intents(built, languages, checker.problems)
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
        features=tuple(features),
    )

"""Checks of everything the bot will say: node texts, replies, nudges, the bot's own
messages and button conditions. Each template is parsed once, its names checked against
what it will receive, its longest rendering bounded against Telegram's limit, and its
work bounded at all: a template (or condition) that could build a huge value or loop
without end is refused, naming the construct and what to write instead."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.nodes import Template

from bot.core.callback import MAX_CALLBACK_BYTES, encode_dialog
from bot.core.model import STAGES, Node, TextRule
from bot.core.render import TELEGRAM_TEXT_LIMIT, Renderer
from bot.dialogs import templates
from bot.dialogs.bounds import (
    PROGRESS_FIELDS,
    USER_FIELDS,
    stage_totals,
    too_long,
    value_lengths,
)
from bot.dialogs.parse import Built
from bot.errors import Problem

MAX_LABEL = 64
TOO_DEEP = "nests too deeply to be checked (or compiled): split it into simpler expressions"


class TemplateChecks:
    """The template half of the checker (mixed into it): what it reads of the checker."""

    built: Built
    languages: Sequence[str]
    renderer: Renderer
    problems: list[Problem]
    required: dict[str, frozenset[str]]
    extra_lengths: dict[tuple[str, ...], int]
    variables: dict[str, int]

    def nodes(self) -> Iterator[Node]:
        for flow in self.built.flows.values():
            yield from flow.nodes.values()

    def add(self, node: Node | None, line: int, message: str, file: str | None = None) -> None:
        where = file or (self.built.flows[node.flow].file if node else "?")
        self.problems.append(Problem(where, line, node.id if node else None, message))

    # -- templates ----------------------------------------------------------------
    def lengths(self) -> dict[tuple[str, ...], int]:
        totals = stage_totals(self.built.flows.values())
        values = value_lengths(self.variables, self.built.facts.values(), totals)
        return {**values, **self.extra_lengths}

    def names_ok(self, usage: templates.Usage, extra: frozenset[str]) -> list[str]:
        errors = []
        allowed = {"user", "vars", "progress", *templates.FUNCTIONS} | extra  # range()…
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
            return ast, self.names_ok(templates.usage(ast), extra)
        except TemplateSyntaxError as exc:
            return None, [f"template syntax error: {exc.message} (template line {exc.lineno})"]
        except RecursionError:
            return None, [TOO_DEEP]

    def bounds(self, ast: Template, table: templates.Table) -> templates.Bounds:
        return templates.analyse(ast, table, self.renderer.env.filters)

    def bounded(
        self,
        node: Node | None,
        line: int,
        what: str,
        ast: Template | None,
        table: templates.Table,
        file: str | None = None,
        extra: int = 0,
    ) -> None:
        """Refuse a text whose work cannot be bounded, or else one that can get too long
        (`extra`: what is sent with it, such as a fact's line)."""
        if ast is None:
            return
        bounds = self.bounds(ast, table)
        for refusal in bounds.refusals:
            self.add(node, line, f"{what}: {refusal}", file)
        if not bounds.refusals and bounds.length + extra > TELEGRAM_TEXT_LIMIT:
            self.add(node, line, f"{what} {too_long(bounds.length + extra)}", file)

    def condition(self, expr: str, table: templates.Table | None = None) -> list[str]:
        try:
            self.renderer.condition(expr)
            ast = self.renderer.env.parse("{{ " + expr + " }}")
            errors = self.names_ok(templates.usage(ast), frozenset())
        except TemplateSyntaxError as exc:
            return [f"condition {expr!r}: syntax error: {exc.message}"]
        except RecursionError:
            return [f"condition {expr!r}: {TOO_DEEP}"]
        if table is not None:
            errors += self.bounds(ast, table).refusals
        return [f"condition {expr!r}: {e}" for e in errors]

    def node_texts(self, lengths: dict[tuple[str, ...], int]) -> None:
        table = templates.Table(lengths)
        fact_line = self.built.messages.get("fact_line", {})
        for node in self.nodes():
            src = self.built.sources[node.flow]
            for lang in self.languages:
                line = src.line("nodes", node.id, "say", lang)
                ast, errors = self.template(node.say[lang], frozenset())
                for e in errors:
                    self.add(node, line, f"say.{lang}: {e}")
                extra = 0
                if node.fact and lang in fact_line:
                    fact_ast = self._parse_quiet(fact_line[lang])
                    extra = 2 + (self.bounds(fact_ast, table).length if fact_ast else 0)
                self.bounded(node, line, f"say.{lang}", ast, table, extra=extra)
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
                    for e in self.condition(b.when, table):
                        self.add(node, b.line, f"button '{b.id}': {e}")
            for followup in node.nudges:
                if followup.after is None:
                    self.add(node, followup.line, f"nudge: 'after: {followup.after_text}' is not a "
                             "duration such as 30m, 3h, 2d or 1w")  # fmt: skip
                for lang in self.languages:
                    ast, errors = self.template(followup.say[lang], frozenset())
                    for e in errors:
                        self.add(node, followup.line, f"nudge say.{lang}: {e}")
                    self.bounded(node, followup.line, f"nudge say.{lang}", ast, table)
            if node.nudges and node.end and not node.buttons:
                self.add(
                    node, node.nudges[0].line, "a nudge on an end node would remind of nothing"
                )
            if node.nudges and node.goto:
                self.add(node, node.nudges[0].line, "nudges on a node with 'goto' are never sent: "
                         "the conversation moves on at once (put them on the node it stops at)")  # fmt: skip
            for i, branch in enumerate(node.goto):
                if branch.condition:
                    for e in self.condition(branch.condition, table):
                        self.add(node, src.line("nodes", node.id, "goto", i), e)
            for rule in node.on_text:
                self.reply(node, rule, table, src.path)
        for flow in self.built.flows.values():
            for rule in flow.on_text:
                self.reply(None, rule, table, flow.file)

    def reply(self, node: Node | None, rule: TextRule, table: templates.Table, file: str) -> None:
        """A text rule's `say:` (a reply that stays on the node) is checked like a node's."""
        for lang in self.languages if rule.reply is not None else ():
            assert rule.reply is not None
            ast, errors = self.template(rule.reply[lang], frozenset())
            for e in errors:
                self.add(node, rule.line, f"on_text say.{lang}: {e}", file)
            self.bounded(node, rule.line, f"on_text say.{lang}", ast, table, file)

    def _parse_quiet(self, text: str) -> Template | None:
        try:
            return self.renderer.env.parse(text)
        except TemplateSyntaxError:
            return None

    def messages(self, lengths: dict[tuple[str, ...], int]) -> None:
        table = templates.Table(lengths)
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
                self.bounded(None, line, f"message '{key}'.{lang}", ast, table, src.path)

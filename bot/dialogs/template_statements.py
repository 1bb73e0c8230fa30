"""The walk's statements: the text a template writes, its `{% if %}` arms (the longest
counts), its `{% for %}` loops (turns times the work of each) and what `{% set %}` binds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from jinja2 import nodes

from bot.core.render import visible_length
from bot.dialogs.template_counts import Lin, Terms, Var, most_of
from bot.dialogs.template_values import (
    BOOL,
    CHARS_PER_STEP,
    LOOP,
    NONE,
    UNBOUNDED,
    Val,
    either,
    number,
    saturate,
    text,
)
from bot.dialogs.template_walk import WalkBase


class StatementWalk(WalkBase):
    """Statements: the visible length each writes, and the steps each takes."""

    def body(self, body: Sequence[nodes.Node], scope: dict[str, Val]) -> int:
        return saturate(sum(self.stmt(n, scope) for n in body))

    def stmt(self, node: nodes.Node, scope: dict[str, Val]) -> int:
        self.steps += 1
        if isinstance(node, nodes.Output):
            total = written = 0  # visible characters, and all those written (tags too)
            counted: Terms = ()  # the texts repeated by counts, bounded together
            counted_size = 0
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    total += visible_length(child.data)
                    written += len(child.data)
                    continue
                val = self.expr(child, scope)  # escaped, then written
                written += val.size
                if val.terms is not None and any(lin.coefs for _, lin in val.terms):
                    counted += val.terms
                    counted_size += val.size
                else:
                    total += val.size
            self.steps = saturate(self.steps + written // CHARS_PER_STEP)
            if counted:
                together = most_of(counted, {**self.table.maxima, **self.maxima})
                total += counted_size if together is None else min(together, counted_size)
            return saturate(total)
        if isinstance(node, nodes.If):
            return self.if_(node, scope)
        if isinstance(node, nodes.For):
            return self.for_(node, scope)
        if isinstance(node, nodes.Assign):
            self.bind(node.target, self.expr(node.node, scope), scope)
            return 0
        if isinstance(node, nodes.AssignBlock):
            val = text(self.body(node.body, dict(scope)))
            if node.filter is not None:
                val = self.filter(node.filter, scope, val)
            self.bind(node.target, val, scope)
            return 0
        if isinstance(node, nodes.With):
            inner = dict(scope)
            for target, value in zip(node.targets, node.values, strict=True):
                self.bind(target, self.expr(value, scope), inner)
            return self.body(node.body, inner)
        if isinstance(node, nodes.FilterBlock):
            return self.filter(node.filter, scope, text(self.body(node.body, dict(scope)))).size
        if isinstance(node, nodes.Scope | nodes.ScopedEvalContextModifier):
            if isinstance(node, nodes.ScopedEvalContextModifier):
                for option in node.options:
                    self.expr(option.value, scope)
            return self.body(node.body, dict(scope))
        if isinstance(node, nodes.EvalContextModifier):
            return 0
        self.refuse(
            node,
            "is not allowed in dialog texts",
            "write the text out, with {% if %}, {% for %} and {% set %} at most",
        )
        return 0

    def if_(self, node: nodes.If, scope: dict[str, Val]) -> int:
        self.expr(node.test, scope)
        start = self.steps
        arms: list[tuple[int, int, dict[str, Val]]] = []
        for body in (node.body, node.else_):
            arm_scope = dict(scope)
            length = self.body(body, arm_scope)
            arms.append((length, self.steps - start, arm_scope))
            self.steps = start
        for elif_ in node.elif_:
            arm_scope = dict(scope)
            length = self.if_(elif_, arm_scope)
            arms.append((length, self.steps - start, arm_scope))
            self.steps = start
        self.steps = start + max(steps for _, steps, _ in arms)
        for _, _, arm_scope in arms:  # what an arm sets is seen after the {% if %}
            for name, val in arm_scope.items():
                if scope.get(name) is not val:
                    scope[name] = either(scope[name], val) if name in scope else val
        return max(length for length, _, _ in arms)

    def for_(self, node: nodes.For, scope: dict[str, Val]) -> int:
        if node.recursive:
            self.refuse(
                node,
                "is not allowed in dialog texts (a recursive loop)",
                "loop over a list the bot passes, without 'recursive'",
            )
        iterable = self.expr(node.iter, scope)
        items = iterable.items
        if items >= UNBOUNDED:
            self.refuse(
                node,
                "loops over a list of unknown size, so it can render up to any length",
                "loop over a list the bot passes (stages, friends…) or over "
                "range() of a small number",
            )
            items = 1  # still look inside, once
        inner = dict(scope)
        item = self.fresh(iterable.member())
        self.bind(node.target, item, inner)
        index = number(0, items)
        inner["loop"] = Val(
            80,
            frozenset({LOOP}),
            items=0,
            fields={
                "index": index,
                "index0": index,
                "revindex": index,
                "revindex0": index,
                "length": index,
                "first": BOOL,
                "last": BOOL,
                "depth": number(1, 1),
                "depth0": number(0, 0),
                "previtem": either(item, NONE),
                "nextitem": either(item, NONE),
            },
        )
        start = self.steps
        if node.test is not None:
            self.expr(node.test, inner)
        length = self.body(node.body, inner)
        turn = self.steps - start + 1
        self.steps = saturate(start + items * turn)
        return saturate(items * length + self.body(node.else_, dict(scope)))

    def fresh(self, item: Val) -> Val:
        """A loop's item, its counts renamed: two loops over one list have two items."""
        if not item.fields:
            return item
        loop = len(self.maxima)
        fields = dict(item.fields)
        for name, val in item.fields.items():
            if val.lin is not None and len(val.lin.coefs) == 1 and not val.lin.const:
                ((var, _),) = val.lin.coefs
                most = self.table.maxima.get(var, self.maxima.get(var))
                if most is not None:
                    renamed: Var = ("#loop", loop, name)
                    self.maxima[renamed] = most
                    fields[name] = replace(val, lin=Lin(0, ((renamed, 1),)))
        return replace(item, fields=fields)

    def bind(self, target: nodes.Node, val: Val, scope: dict[str, Val]) -> None:
        if isinstance(target, nodes.Name):
            scope[target.name] = val
        elif isinstance(target, nodes.Tuple | nodes.List):
            for element in target.items:
                self.bind(element, val.member(), scope)
        # an NSRef (`ns.x`): namespace() is refused where it is made

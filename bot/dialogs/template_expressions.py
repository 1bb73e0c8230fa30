"""The walk's expressions: each one's value as a `Val`, its steps counted and what it
builds bounded; names, lookups, conditions, tests and literals. Operators, calls and
filters have their own modules."""

from __future__ import annotations

from dataclasses import replace

from jinja2 import nodes

from bot.dialogs.template_context import dotted
from bot.dialogs.template_counts import Lin
from bot.dialogs.template_show import show
from bot.dialogs.template_values import (
    BOOL,
    CHAR_REPR,
    CHARS_PER_STEP,
    EMPTY,
    FLOAT,
    FLOAT_VAL,
    INT,
    NONE,
    TEXT,
    Val,
    container,
    either,
    number,
    saturate,
    text,
    unknown,
)
from bot.dialogs.template_walk import WalkBase
from bot.dialogs.template_whitelist import LOOKUPS, NUMBER_TESTS


class ExpressionWalk(WalkBase):
    """Expressions: `expr` bounds any of them, handing operators, calls and filters to
    the other parts."""

    def expr(self, node: nodes.Node, scope: dict[str, Val]) -> Val:
        val = self.evaluate(node, scope)
        built = not isinstance(node, LOOKUPS) or (
            isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Slice)
        )
        if not built:
            self.steps = saturate(self.steps + 1)
            return val
        self.steps = saturate(self.steps + 1 + val.size // CHARS_PER_STEP)
        return self.built(node, val, "build shorter values")

    def evaluate(self, node: nodes.Node, scope: dict[str, Val]) -> Val:
        if isinstance(node, nodes.Const):
            return self.e_const(node)
        if isinstance(node, nodes.Name):
            return self.e_name(node, scope)
        if isinstance(node, nodes.Getattr):
            return self.e_getattr(node, scope)
        if isinstance(node, nodes.Getitem):
            return self.e_getitem(node, scope)
        if isinstance(node, nodes.Concat):
            parts = [self.expr(n, scope) for n in node.nodes]
            val = text(sum(p.size for p in parts))
            if all(p.terms is not None for p in parts):
                val = replace(val, terms=tuple(t for p in parts for t in p.terms or ()))
            return val
        if isinstance(node, nodes.CondExpr):
            return self.e_condexpr(node, scope)
        if isinstance(node, nodes.And | nodes.Or):
            return either(self.expr(node.left, scope), self.expr(node.right, scope))
        if isinstance(node, nodes.BinExpr):
            return self.e_binary(node, scope)
        if isinstance(node, nodes.Not | nodes.Compare):
            return self.e_bool(node, scope)
        if isinstance(node, nodes.Neg | nodes.Pos):
            return self.e_unary(node, scope)
        if isinstance(node, nodes.Test):
            return self.e_test(node, scope)
        if isinstance(node, nodes.List | nodes.Tuple):
            return self.e_list(node, scope)
        if isinstance(node, nodes.Dict):
            return self.e_dict(node, scope)
        if isinstance(node, nodes.MarkSafe | nodes.MarkSafeIfAutoescape):
            return self.expr(node.expr, scope)
        if isinstance(node, nodes.Call):
            return self.e_call(node, scope)
        if isinstance(node, nodes.Filter):
            return self.filter(node, scope, None)
        self.refuse(node, "is not allowed in dialog texts")
        return EMPTY

    def e_const(self, node: nodes.Const) -> Val:
        value = node.value
        if isinstance(value, bool | int):
            exact = int(value)
            return replace(number(exact, exact, size=len(str(value))), lin=Lin(exact), data=exact)
        if isinstance(value, str):
            return replace(text(len(value)), data=value, terms=((1, Lin(len(value))),))
        if isinstance(value, float):
            return FLOAT_VAL
        if value is None:
            return NONE
        return unknown(len(repr(value)), items=len(repr(value)))

    def e_name(self, node: nodes.Name, scope: dict[str, Val]) -> Val:
        found = scope.get(node.name)
        return found if found is not None else self.table.value((node.name,))

    def e_getattr(self, node: nodes.Getattr, scope: dict[str, Val]) -> Val:
        path = dotted(node)
        if path is not None and path[0] not in scope:
            return self.table.value(path)
        return self.expr(node.node, scope).attribute(node.attr)

    def e_getitem(self, node: nodes.Getitem, scope: dict[str, Val]) -> Val:
        obj = self.expr(node.node, scope)
        if isinstance(node.arg, nodes.Slice):
            for part in (node.arg.start, node.arg.stop, node.arg.step):
                if part is not None:
                    self.expr(part, scope)
            return replace(obj, data=None)
        key = self.expr(node.arg, scope)
        if obj.fields is not None and isinstance(key.data, str):
            return obj.attribute(key.data)
        return obj.member()

    def e_condexpr(self, node: nodes.CondExpr, scope: dict[str, Val]) -> Val:
        self.expr(node.test, scope)
        orelse = self.expr(node.expr2, scope) if node.expr2 is not None else EMPTY
        return either(self.expr(node.expr1, scope), orelse)

    def e_bool(self, node: nodes.Not | nodes.Compare, scope: dict[str, Val]) -> Val:
        if isinstance(node, nodes.Not):
            self.expr(node.node, scope)
        else:
            self.expr(node.expr, scope)
            for operand in node.ops:
                self.expr(operand.expr, scope)
        return BOOL

    def e_unary(self, node: nodes.Neg | nodes.Pos, scope: dict[str, Val]) -> Val:
        val = self.expr(node.node, scope)
        kinds = val.kinds & {INT, FLOAT}
        if isinstance(node, nodes.Neg) and val.integer:
            lo, hi = (None if val.hi is None else -val.hi), (None if val.lo is None else -val.lo)
            lin = val.lin.times(-1) if val.lin else None
            return Val(val.size + 1, kinds, lo, hi, items=0, lin=lin)
        return Val(val.size + 1, kinds, val.lo, val.hi, items=0, lin=val.lin)

    def e_test(self, node: nodes.Test, scope: dict[str, Val]) -> Val:
        subject = self.expr(node.node, scope)
        if self.dynamic(node):
            return BOOL
        for arg in (*node.args, *(k.value for k in node.kwargs)):
            self.expr(arg, scope)
        if node.name in NUMBER_TESTS and subject.text:
            self.refuse(
                node,
                f"needs a number, and the checker cannot tell that "
                f"{show(node.node)} is one (on a text, '{node.name}' formats it)",
                f"write {show(node.node, 10)}|int is {node.name}",
            )
        return BOOL

    # literals
    def e_list(self, node: nodes.List | nodes.Tuple, scope: dict[str, Val]) -> Val:
        vals = [self.expr(n, scope) for n in node.items]
        item = EMPTY
        for val in vals:
            item = either(item, val) if item is not EMPTY else val
        size = sum(CHAR_REPR * v.size + 4 for v in vals) + 2
        return Val(saturate(size), frozenset({TEXT}), items=len(vals), item=item)

    def e_dict(self, node: nodes.Dict, scope: dict[str, Val]) -> Val:
        fields: dict[str, Val] = {}
        size = 2
        for pair in node.items:
            key, value = self.expr(pair.key, scope), self.expr(pair.value, scope)
            size += CHAR_REPR * (key.size + value.size) + 6
            fields[key.data if isinstance(key.data, str) else f"#{len(fields)}"] = value
        return container(fields, size)

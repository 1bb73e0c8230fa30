"""Jinja2 source for a syntax node, close to what the operator wrote: how the checker's
messages quote the construct they refuse (`quote`) and the expressions they name (`show`)."""

from __future__ import annotations

from jinja2 import nodes

_PREC: dict[type[nodes.Node] | type[None], int] = {
    nodes.Or: 1,
    nodes.And: 2,
    nodes.Not: 3,
    nodes.Compare: 4,
    nodes.Add: 5,
    nodes.Sub: 5,
    nodes.Concat: 6,
    nodes.Mul: 7,
    nodes.Div: 7,
    nodes.FloorDiv: 7,
    nodes.Mod: 7,
    nodes.Pow: 8,
    nodes.Neg: 9,
    nodes.Pos: 9,
    nodes.Filter: 10,
    nodes.Test: 10,
}
_COMPARE = {
    "eq": "==",
    "ne": "!=",
    "gt": ">",
    "gteq": ">=",
    "lt": "<",
    "lteq": "<=",
    "in": "in",
    "notin": "not in",
}


def _args(node: nodes.Call | nodes.Filter | nodes.Test, skip: int = 0) -> str:
    parts = [show(a) for a in node.args[skip:]]
    parts += [f"{k.key}={show(k.value)}" for k in node.kwargs]
    return ", ".join(parts)


def show(node: nodes.Node | None, outer: int = 0) -> str:
    """Jinja2 source for an expression, close to what the operator wrote."""
    prec = _PREC.get(type(node), 11)
    if node is None:
        out = ""
    elif isinstance(node, nodes.Const):
        out = repr(node.value)
    elif isinstance(node, nodes.Name):
        out = node.name
    elif isinstance(node, nodes.Getattr):
        out = f"{show(node.node, 11)}.{node.attr}"
    elif isinstance(node, nodes.Getitem):
        arg = node.arg
        inner = (
            f"{show(arg.start)}:{show(arg.stop)}" + (f":{show(arg.step)}" if arg.step else "")
            if isinstance(arg, nodes.Slice)
            else show(arg)
        )
        out = f"{show(node.node, 11)}[{inner}]"
    elif isinstance(node, nodes.BinExpr):
        out = f"{show(node.left, prec)} {node.operator} {show(node.right, prec + 1)}"
    elif isinstance(node, nodes.UnaryExpr):
        space = " " if isinstance(node, nodes.Not) else ""
        out = f"{node.operator}{space}{show(node.node, prec)}"
    elif isinstance(node, nodes.Concat):
        out = " ~ ".join(show(n, prec + 1) for n in node.nodes)
    elif isinstance(node, nodes.Compare):
        ops = " ".join(f"{_COMPARE.get(o.op, o.op)} {show(o.expr, prec + 1)}" for o in node.ops)
        out = f"{show(node.expr, prec + 1)} {ops}"
    elif isinstance(node, nodes.CondExpr):
        orelse = f" else {show(node.expr2, 1)}" if node.expr2 is not None else ""
        out = f"{show(node.expr1, 1)} if {show(node.test, 1)}{orelse}"
        prec = 0
    elif isinstance(node, nodes.Filter):
        args = f"({_args(node)})" if node.args or node.kwargs else ""
        subject = f"{show(node.node, prec)}|" if node.node is not None else ""
        out = f"{subject}{node.name}{args}"
    elif isinstance(node, nodes.Test):
        args = f"({_args(node)})" if node.args or node.kwargs else ""
        out = f"{show(node.node, prec)} is {node.name}{args}"
    elif isinstance(node, nodes.Call):
        out = f"{show(node.node, 11)}({_args(node)})"
    elif isinstance(node, nodes.List):
        out = "[" + ", ".join(show(n) for n in node.items) + "]"
    elif isinstance(node, nodes.Tuple):
        out = (
            "("
            + ", ".join(show(n) for n in node.items)
            + ("," if len(node.items) == 1 else "")
            + ")"
        )
    elif isinstance(node, nodes.Dict):
        out = "{" + ", ".join(f"{show(p.key)}: {show(p.value)}" for p in node.items) + "}"
    else:
        out = "…"
    return f"({out})" if prec < outer else out


def quote(node: nodes.Node) -> str:
    """The construct as the operator wrote it: `{{ expression }}` or `{% statement %}`."""
    if isinstance(node, nodes.Filter) and node.node is None:  # {% filter %}, {% set x | f %}
        return "{% filter " + show(node) + " %}"
    if isinstance(node, nodes.For):
        head = f"for {show(node.target)} in {show(node.iter)}"
        return "{% " + head + (" recursive" if node.recursive else "") + " %}"
    if isinstance(node, nodes.Stmt):
        return "{% " + _STATEMENT.get(type(node), type(node).__name__.lower()) + " %}"
    text_ = show(node)
    if len(text_) > 60:
        text_ = text_[:59] + "…"
    return "{{ " + text_ + " }}"


_STATEMENT = {
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from … import",
    nodes.Extends: "extends",
    nodes.Block: "block",
    nodes.ExprStmt: "do",
    nodes.Continue: "continue",
    nodes.Break: "break",
    nodes.OverlayScope: "overlay",
}

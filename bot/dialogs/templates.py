"""Static analysis of dialog templates: which names they use, how long they can get.

The length bound walks the Jinja2 syntax tree instead of rendering once, so that every
branch of an `{% if %}` is accounted for: the longest branch counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from jinja2 import nodes

from bot.core.render import visible_length

UNBOUNDED = 10**9
DEFAULT_VALUE_LENGTH = 64  # what an unknown value may take, e.g. a first name (64 max)


@dataclass(frozen=True, slots=True)
class Usage:
    """Names a template reads: top-level names and dotted attribute paths."""

    names: frozenset[str]
    paths: frozenset[tuple[str, ...]]


def _dotted(node: nodes.Node) -> tuple[str, ...] | None:
    parts: list[str] = []
    while isinstance(node, nodes.Getattr):
        parts.append(node.attr)
        node = node.node
    if isinstance(node, nodes.Name):
        parts.append(node.name)
        return tuple(reversed(parts))
    return None


def usage(ast: nodes.Template | nodes.Expr) -> Usage:
    """Free names (not set or looped inside) and the attribute paths read from them."""
    local: set[str] = set()
    if any(True for _ in ast.find_all(nodes.For)):
        local.add("loop")  # Jinja's loop variable (loop.last, loop.index…)
    for binder in ast.find_all((nodes.For, nodes.Assign)):
        target = binder.target  # type: ignore[attr-defined]
        for name in [target, *target.find_all(nodes.Name)]:
            if isinstance(name, nodes.Name):
                local.add(name.name)
    names = {n.name for n in ast.find_all(nodes.Name) if n.ctx == "load" and n.name not in local}
    paths: set[tuple[str, ...]] = set()
    for getattr_node in ast.find_all(nodes.Getattr):
        path = _dotted(getattr_node)
        if path and path[0] not in local:
            paths.add(path)
    return Usage(frozenset(names), frozenset(paths))


def _expr_bound(expr: nodes.Node, lengths: Mapping[tuple[str, ...], int]) -> int:
    if isinstance(expr, nodes.Const):
        return len(str(expr.value))
    if isinstance(expr, nodes.Name | nodes.Getattr):
        path = _dotted(expr)
        return lengths.get(path, DEFAULT_VALUE_LENGTH) if path else DEFAULT_VALUE_LENGTH
    if isinstance(expr, nodes.CondExpr):
        else_bound = _expr_bound(expr.expr2, lengths) if expr.expr2 is not None else 0
        return max(_expr_bound(expr.expr1, lengths), else_bound)
    if isinstance(expr, nodes.Concat):
        return sum(_expr_bound(e, lengths) for e in expr.nodes)
    if isinstance(expr, nodes.Filter) and expr.name in ("length", "count"):
        return 6  # a count, not the text counted
    if isinstance(expr, nodes.Filter) and expr.node is not None:
        return _expr_bound(expr.node, lengths)
    return DEFAULT_VALUE_LENGTH


def _loop_items(iterable: nodes.Node, lengths: Mapping[tuple[str, ...], int]) -> int:
    """How many times a loop may run: known lists, `range(constant)`, else unbounded."""
    path = _dotted(iterable)
    if path is not None and ("#items", *path) in lengths:
        return lengths[("#items", *path)]
    if (
        isinstance(iterable, nodes.Call)
        and isinstance(iterable.node, nodes.Name)
        and iterable.node.name == "range"
        and iterable.args
        and all(isinstance(a, nodes.Const) and isinstance(a.value, int) for a in iterable.args)
    ):
        return len(range(*(a.value for a in iterable.args)))  # type: ignore[attr-defined]
    return UNBOUNDED


def _item_lengths(
    loop: nodes.For, lengths: Mapping[tuple[str, ...], int]
) -> Mapping[tuple[str, ...], int]:
    """Inside `for x in path`, `x.field` is as long as `("#item", *path, field)` says."""
    path = _dotted(loop.iter)
    if path is None or not isinstance(loop.target, nodes.Name):
        return lengths
    prefix = ("#item", *path)
    fields = {
        (loop.target.name, *key[len(prefix) :]): value
        for key, value in lengths.items()
        if key[: len(prefix)] == prefix and len(key) > len(prefix)
    }
    return {**lengths, **fields} if fields else lengths


def _body_bound(body: list[nodes.Node], lengths: Mapping[tuple[str, ...], int]) -> int:
    return sum(_node_bound(n, lengths) for n in body)


def _node_bound(node: nodes.Node, lengths: Mapping[tuple[str, ...], int]) -> int:
    if isinstance(node, nodes.Output):
        total = 0
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                total += visible_length(child.data)
            else:
                total += _expr_bound(child, lengths)
        return total
    if isinstance(node, nodes.If):
        arms = [_body_bound(node.body, lengths), _body_bound(node.else_, lengths)]
        arms += [_node_bound(elif_, lengths) for elif_ in node.elif_]
        return max(arms)
    if isinstance(node, nodes.For):
        items = _loop_items(node.iter, lengths)
        inner = _item_lengths(node, lengths)
        return min(
            UNBOUNDED, items * _body_bound(node.body, inner) + _body_bound(node.else_, lengths)
        )
    body = getattr(node, "body", None)
    if isinstance(body, list):
        return _body_bound(body, lengths)
    return 0


def max_length(ast: nodes.Template, lengths: Mapping[tuple[str, ...], int]) -> int:
    """An upper bound of the visible length of a template's output.

    `lengths` maps dotted paths (`("user", "first_name")`) to their longest value,
    `("#items", *path)` to the most items a loop over `path` may see, and
    `("#item", *path, field)` to the longest `field` of one of those items.
    """
    return _body_bound(ast.body, lengths)

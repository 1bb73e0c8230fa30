"""What a dialog template reads from its context: the names and dotted paths it uses
(`usage`), and the `Table` of what the bot passes under those paths, as values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from jinja2 import nodes

from bot.dialogs.template_counts import Lin, Var
from bot.dialogs.template_values import (
    DEFAULT_VALUE_LENGTH,
    Val,
    container,
    listing,
    number,
    unknown,
)


@dataclass(frozen=True, slots=True)
class Usage:
    """Names a template reads: top-level names and dotted attribute paths."""

    names: frozenset[str]
    paths: frozenset[tuple[str, ...]]


def dotted(node: nodes.Node) -> tuple[str, ...] | None:
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
        path = dotted(getattr_node)
        if path and path[0] not in local:
            paths.add(path)
    return Usage(frozenset(names), frozenset(paths))


class Table:
    """The lengths the checker knows (see `max_length`), indexed once for many templates."""

    def __init__(self, lengths: Mapping[tuple[str, ...], int]) -> None:
        self.lengths = lengths
        self.children: dict[tuple[str, ...], set[str]] = {}
        for key in lengths:
            for i in range(1, len(key)):
                self.children.setdefault(key[:i], set()).add(key[i])
        self._memo: dict[tuple[str, ...], Val] = {}
        self.maxima: dict[Var, int] = {}  # the counts seen, and their largest value

    def value(self, path: tuple[str, ...]) -> Val:
        found = self._memo.get(path)
        if found is None:
            found = self._memo[path] = self._value(path)
        return found

    def _value(self, path: tuple[str, ...]) -> Val:
        declared = self.lengths.get(path)
        most = self.lengths.get(("#max", *path))
        items = self.lengths.get(("#items", *path))
        if most is not None:
            self.maxima[path] = most
            return replace(number(0, most), lin=Lin(0, ((path, 1),)))
        if items is not None:
            kids = sorted(self.children.get(("#item", *path), ()))
            item = container({k: self.value(("#item", *path, k)) for k in kids}) if kids else None
            return listing(items, item or unknown(DEFAULT_VALUE_LENGTH))
        kids = sorted(self.children.get(path, ()))
        if kids:
            return container({k: self.value((*path, k)) for k in kids}, declared)
        if declared is not None:
            return unknown(declared, items=declared)
        return unknown(DEFAULT_VALUE_LENGTH)  # a guess: nothing bounds its items

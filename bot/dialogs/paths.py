"""Where the dialogs lead: what a walk from the entry reaches, and what a dead end is.

The checker reports what is not reached and the dead ends; the graph draws them. Both ask
here, so that what `vie-coach check` calls unreachable is exactly what the graph greys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.core.model import Node, Target


def reachable_from(
    starts: Iterable[Target],
    node_at: Callable[[Target], Node | None],
    ways: Callable[[Node], Iterable[Target]],
) -> set[Target]:
    """Every node some path of `ways` leads to from `starts` (targets that are no node
    end the path: the checker reports them on their own)."""
    seen: set[Target] = set()
    todo = list(starts)
    while todo:
        here = todo.pop()
        node = node_at(here)
        if node is None or here in seen:
            continue
        seen.add(here)
        todo.extend(ways(node))
    return seen


def is_dead_end(node: Node) -> bool:
    """No way forward (no button, typed rule, `goto` or typed answer), and not a place to
    stop (`end: true`)."""
    return not (node.buttons or node.on_text or node.goto or node.end or node.input)

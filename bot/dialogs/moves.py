"""Who moves where when a new dialog set replaces the one served: the checker's report.

The engine decides each person's place when they next act (`bot/core/engine.py`): a
renamed node's people continue at its new id, a deleted node's people go to the start of
the same part with a word of explanation, a changed node's people see its new text and
its old buttons expire. This module says the same thing ahead of time, by node, from
where the store says people stand, so that an operator reads it before reloading.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.core.model import Dialogs, Target

How = Literal["renamed", "renamed_changed", "gone", "gone_flow", "changed"]


@dataclass(frozen=True, slots=True)
class Standing:
    """How many people stand at one node, having seen it at one version."""

    flow: str
    node: str
    node_version: str
    people: int


@dataclass(frozen=True, slots=True)
class Move:
    """What a new dialog set does to the people at one place."""

    place: str  # "flow.node", where they stand now
    people: int
    how: How
    to: str  # where they continue ("flow.node")

    def __str__(self) -> str:
        who = "1 person" if self.people == 1 else f"{self.people} people"
        if self.how == "renamed":
            return f"{who} at `{self.place}` go to `{self.to}` (renamed)"
        if self.how == "renamed_changed":
            return (
                f"{who} at `{self.place}` go to `{self.to}` (renamed, and changed: the "
                "buttons shown before expire)"
            )
        if self.how == "gone":
            return (
                f"{who} at `{self.place}` go to `{self.to}`, the start of that part, with a "
                "word of explanation (the node is gone)"
            )
        if self.how == "gone_flow":
            return (
                f"{who} at `{self.place}` go to `{self.to}`, the start of the journey, with "
                "a word of explanation (the whole flow is gone)"
            )
        return f"{who} at `{self.place}` stay there: they see its new text, its old buttons expire"


def continue_at(dialogs: Dialogs, flow: str, node: str) -> tuple[How | None, Target]:
    """Where someone standing at `flow.node` continues in `dialogs`, and why they move
    (None: the node is still there)."""
    if dialogs.node_at(flow, node) is not None:
        return None, Target(flow, node)
    moved = dialogs.renamed.get(f"{flow}.{node}")
    if moved is not None:
        return "renamed", moved
    return ("gone" if flow in dialogs.flows else "gone_flow"), dialogs.part_start(flow)


def moves(standing: Iterable[Standing], new: Dialogs) -> list[Move]:
    """Every place whose people the new set moves, or shows a changed node, by place."""
    found: dict[tuple[str, How, str], int] = {}
    for group in standing:
        how, target = continue_at(new, group.flow, group.node)
        node = new.node(target)
        # "" is a version never recorded (a place saved before versions were): unknown
        changed = node is not None and group.node_version not in ("", node.version)
        if how is None:
            if not changed:
                continue
            how = "changed"
        elif how == "renamed" and changed:
            how = "renamed_changed"
        key = (f"{group.flow}.{group.node}", how, str(target))
        found[key] = found.get(key, 0) + group.people
    return [Move(place, n, how, to) for (place, how, to), n in sorted(found.items())]


def report(found: list[Move], limit: int = 30) -> list[str]:
    """The moves as lines an operator reads, the largest groups first."""
    if not found:
        return ["nobody moves: no one stands at a renamed, deleted or changed node"]
    ordered = sorted(found, key=lambda m: (-m.people, m.place))
    lines = [str(m) for m in ordered[:limit]]
    if len(ordered) > limit:
        rest = sum(m.people for m in ordered[limit:])
        lines.append(f"… and {rest} more people at {len(ordered) - limit} other places")
    return lines

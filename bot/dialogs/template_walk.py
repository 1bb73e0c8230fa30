"""The walk over a template's syntax tree, the part its mixins share: what it knows (the
table, the counts of loop items), what it counts (steps) and refuses, and how."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from jinja2 import nodes

from bot.core.render import MAX_BUILT, MAX_ITEMS
from bot.dialogs.template_context import Table
from bot.dialogs.template_counts import Var
from bot.dialogs.template_show import quote
from bot.dialogs.template_values import EMPTY, NO_BOUND, Val


class WalkBase(ABC):
    """One template's analysis: its longest output, its steps, what it cannot bound.

    The walk's parts (statements, expressions, operators, calls, filters) are mixins of
    this class; the abstract methods are those one part calls on another."""

    def __init__(self, table: Table, filters: Iterable[str] = ()) -> None:
        self.table = table
        self.jinja_filters = frozenset(filters)
        self.steps = 0
        self.refusals: list[str] = []
        self.maxima: dict[Var, int] = {}  # the counts of loop items (fresh for each loop)

    # -- reporting -------------------------------------------------------------------
    def refuse(self, node: nodes.Node, what: str, advice: str = "") -> None:
        message = f"{quote(node)} {what} (template line {node.lineno})"
        if advice:
            message += f": {advice}"
        if message not in self.refusals:
            self.refusals.append(message)

    def built(self, node: nodes.Node, val: Val, advice: str) -> Val:
        """Refuse a value over MAX_BUILT (once: what contains it is not refused again)."""
        if val.size <= MAX_BUILT and val.items <= max(MAX_BUILT, MAX_ITEMS):
            return val
        amount, unit = (val.size, "characters") if val.size > MAX_BUILT else (val.items, "items")
        what = (
            f"builds a value of up to {amount:,} {unit}"
            if amount < NO_BOUND
            else "builds a value whose size the checker cannot bound"
        )
        self.refuse(node, what, f"a dialog text may build at most {MAX_BUILT:,}; {advice}")
        return EMPTY

    def dynamic(self, node: nodes.Call | nodes.Filter | nodes.Test) -> bool:
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            self.refuse(
                node,
                "passes *args or **kwargs, which the checker cannot follow",
                "pass each argument by name",
            )
            return True
        return False

    # -- what the parts call on one another ------------------------------------------
    @abstractmethod
    def expr(self, node: nodes.Node, scope: dict[str, Val]) -> Val:
        """An expression's value, its steps counted (template_expressions)."""

    @abstractmethod
    def e_binary(self, node: nodes.BinExpr, scope: dict[str, Val]) -> Val:
        """An arithmetic operator's value (template_operators)."""

    @abstractmethod
    def printf(self, node: nodes.Node, subject: nodes.Node | None, fmt: Val, shown: int) -> Val:
        """`fmt % values` or `fmt|format(…)` (template_operators)."""

    @abstractmethod
    def e_call(self, node: nodes.Call, scope: dict[str, Val]) -> Val:
        """A call of a function or a method (template_calls)."""

    @abstractmethod
    def join(self, node: nodes.Node, sequence: Val, item: Val, sep: Val) -> Val:
        """`sep.join(sequence)` or `sequence|join(sep)` (template_calls)."""

    @abstractmethod
    def filter(self, node: nodes.Filter, scope: dict[str, Val], subject: Val | None) -> Val:
        """A filter's value; `subject` is a filter block's body (template_filters)."""

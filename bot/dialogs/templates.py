"""Static analysis of dialog templates: which names they use, how long they can get, and
whether the work of rendering them can be bounded at all.

The length bound walks the Jinja2 syntax tree instead of rendering once, so that every
branch of an `{% if %}` is accounted for: the longest branch counts.

The same walk bounds the *work*: each value a template builds (a repetition, a join, a
padding) and the steps of its loops. It is a whitelist: the statements, operators,
filters, tests, functions and methods it knows are followed with a bound on what they
build; anything else is refused with the reason and what to write instead. A template
passes when every value it may build stays within `MAX_BUILT` characters and its loops
within `MAX_STEPS` steps, whatever the values it receives (within their known lengths).

This module holds the entry points; the analysis is in its parts: the values it reasons
about (template_values, template_counts), what templates receive (template_context), the
whitelist (template_whitelist), the walk (template_walk, and its mixins
template_statements, template_expressions, template_operators, template_calls,
template_filters) and how messages quote a construct (template_show).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from jinja2 import nodes

from bot.dialogs.template_calls import CallWalk
from bot.dialogs.template_context import Table, Usage, usage
from bot.dialogs.template_expressions import ExpressionWalk
from bot.dialogs.template_filters import FilterWalk
from bot.dialogs.template_operators import OperatorWalk
from bot.dialogs.template_statements import StatementWalk
from bot.dialogs.template_values import CAP, MAX_STEPS, UNBOUNDED, Val, saturate
from bot.dialogs.template_whitelist import FUNCTIONS

__all__ = [
    "FUNCTIONS",
    "MAX_STEPS",
    "UNBOUNDED",
    "Bounds",
    "Table",
    "Usage",
    "analyse",
    "max_length",
    "usage",
]


class TemplateWalk(StatementWalk, ExpressionWalk, OperatorWalk, CallWalk, FilterWalk):
    """The whole walk: each part (statements, expressions, operators, calls, filters) is a
    mixin over `WalkBase`, which holds what they share."""


@dataclass(frozen=True, slots=True)
class Bounds:
    """What the walk found: the longest visible output, the steps, and every construct
    whose work it cannot bound (each message quotes it and says what to write instead)."""

    length: int
    steps: int
    refusals: tuple[str, ...]


def _as_table(lengths: Mapping[tuple[str, ...], int] | Table) -> Table:
    return lengths if isinstance(lengths, Table) else Table(lengths)


def analyse(
    ast: nodes.Template, lengths: Mapping[tuple[str, ...], int] | Table, filters: Iterable[str] = ()
) -> Bounds:
    """Bound a template's output and work; `filters` names the filters Jinja2 has."""
    walk = TemplateWalk(_as_table(lengths), filters)
    scope: dict[str, Val] = {}
    length = 0
    heaviest: tuple[int, nodes.Node | None] = (0, None)
    for node in ast.body:
        before = walk.steps
        try:
            length = saturate(length + walk.stmt(node, scope))
        except RecursionError:  # Jinja2 could not compile it either
            walk.refusals.append(
                f"an expression nests too deeply to be checked (template line {node.lineno}): "
                "split it into simpler ones"
            )
            length = UNBOUNDED
        heaviest = max(heaviest, (walk.steps - before, node), key=lambda pair: pair[0])
    if walk.steps > MAX_STEPS and not walk.refusals and heaviest[1] is not None:
        walk.refuse(
            heaviest[1],
            f"takes up to {min(walk.steps, CAP):,} steps to render",
            f"a dialog text may take at most {MAX_STEPS:,}: loop over fewer items, "
            "nest fewer loops, or build shorter values inside them",
        )
    return Bounds(min(length, UNBOUNDED), walk.steps, tuple(walk.refusals))


def max_length(ast: nodes.Template, lengths: Mapping[tuple[str, ...], int] | Table) -> int:
    """An upper bound of the visible length of a template's output.

    `lengths` maps dotted paths (`("user", "first_name")`) to their longest value,
    `("#items", *path)` to the most items a loop over `path` may see,
    `("#item", *path, field)` to the longest `field` of one of those items, and
    `("#max", *path)` to the largest number `path` may be (from 0: a count).
    """
    return analyse(ast, lengths).length

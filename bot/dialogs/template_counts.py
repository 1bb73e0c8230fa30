"""Integers known exactly in terms of the counts the bot passes (`Lin`), and the largest
size texts repeated by those counts may reach together (`most_of`)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

Var = tuple[object, ...]  # a count: its table path, or ("#loop", n, field) in a loop
# A stage's milestones reached are at most its total (`progress.V.reached`, `s.reached`).
_AT_MOST = {"reached": "total"}


@dataclass(frozen=True, slots=True)
class Lin:
    """An integer exactly: `const + Σ coef × count`, each count between 0 and its max.
    It keeps `'●' * s.reached ~ '○' * (s.total - s.reached)` at `s.total` characters."""

    const: int
    coefs: tuple[tuple[Var, int], ...] = ()

    def plus(self, other: Lin, sign: int = 1) -> Lin:
        coefs = dict(self.coefs)
        for var, coef in other.coefs:
            coefs[var] = coefs.get(var, 0) + sign * coef
        return Lin(self.const + sign * other.const, tuple((v, c) for v, c in coefs.items() if c))

    def times(self, k: int) -> Lin:
        return Lin(self.const * k, tuple((v, c * k) for v, c in self.coefs if c * k))

    def at(self, point: Mapping[Var, int]) -> int:
        return self.const + sum(c * point[v] for v, c in self.coefs)


Terms = tuple[tuple[int, Lin], ...]  # a text's size: Σ length × max(0, count)


def most_of(terms: Terms, maxima: Mapping[Var, int]) -> int | None:
    """The largest Σ length × max(0, lin) over the counts' ranges: a convex function, so at
    a vertex (a count at 0 or its max; a reached count at most its total); None: too many."""
    found = {v for _, lin in terms for v, _ in lin.coefs}
    if any(v not in maxima for v in found) or len(found) > 8:
        return None
    choices: list[list[dict[Var, int]]] = []
    for var in sorted(found, key=repr):
        sibling = (*var[:-1], _AT_MOST[str(var[-1])]) if var[-1] in _AT_MOST else None
        if sibling in found:  # 0 <= var <= sibling <= its max
            top = maxima[sibling]
            choices.append([{var: 0, sibling: 0}, {var: 0, sibling: top}, {var: top, sibling: top}])
        elif not any(var[-1] == _AT_MOST.get(str(v[-1])) and v[:-1] == var[:-1] for v in found):
            choices.append([{var: 0}, {var: maxima[var]}])
    best = 0
    for combo in itertools.product(*choices):
        point = {k: v for part in combo for k, v in part.items()}
        best = max(best, sum(length * max(0, lin.at(point)) for length, lin in terms))
    return best

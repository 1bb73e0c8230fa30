"""The walk's arithmetic operators: sums, differences, repetitions (`'★' * n`), `%` as a
remainder or as a printf format, and powers, each bounded in size and range."""

from __future__ import annotations

from dataclasses import replace

from jinja2 import nodes

from bot.core.render import MAX_INT_BITS, MAX_WIDTH, PRINTF, printf_widths
from bot.dialogs.template_show import show
from bot.dialogs.template_values import (
    CHAR_REPR,
    EMPTY,
    FLOAT,
    FLOAT_SIZE,
    FLOAT_VAL,
    INT,
    NO_BOUND,
    TEXT,
    Val,
    digits,
    either,
    interval,
    magnitude,
    repetitions,
    saturate,
    text,
    too_many_bits,
)
from bot.dialogs.template_walk import WalkBase


class OperatorWalk(WalkBase):
    """Arithmetic: + - * / // % ** and printf formats."""

    def e_binary(self, node: nodes.BinExpr, scope: dict[str, Val]) -> Val:
        a, b = self.expr(node.left, scope), self.expr(node.right, scope)
        numbers = a.kinds & b.kinds & {INT, FLOAT}
        floats = (FLOAT in a.kinds and (b.kinds & {INT, FLOAT})) or (
            FLOAT in b.kinds and (a.kinds & {INT, FLOAT})
        )
        kinds = (numbers | ({FLOAT} if floats else set())) & {INT, FLOAT}
        float_size = FLOAT_SIZE if floats else 0
        if isinstance(node, nodes.Add):
            lo, hi = interval(a, b, lambda x, y: x + y)
            sequences = {TEXT} if a.text and b.text else set()
            items = a.items + b.items if sequences else 0
            return Val(
                saturate(max(a.size + b.size, float_size)),
                frozenset(kinds | sequences),
                lo,
                hi,
                items=saturate(items),
                item=either(a.member(), b.member()),
                lin=a.lin.plus(b.lin) if a.lin and b.lin else None,
            )
        if isinstance(node, nodes.Sub):
            lo, hi = interval(a, b, lambda x, y: x - y)
            lin = a.lin.plus(b.lin, -1) if a.lin and b.lin else None
            return Val(
                saturate(max(a.size + b.size, float_size)),
                frozenset(kinds),
                lo,
                hi,
                items=0,
                lin=lin,
            )
        if isinstance(node, nodes.Mul):
            return self.multiply(node, a, b, frozenset(kinds), float_size)
        if isinstance(node, nodes.Div):
            return FLOAT_VAL
        if isinstance(node, nodes.FloorDiv):
            most = magnitude(a) if INT in numbers else None
            size = max(a.size + 1, float_size)
            return Val(size, frozenset(kinds), None if most is None else -most, most, items=0)
        if isinstance(node, nodes.Mod):
            return self.modulo(node, a, b, frozenset(kinds), float_size)
        return self.power(node, a, b, frozenset(kinds))

    def multiply(
        self, node: nodes.Mul, a: Val, b: Val, kinds: frozenset[str], float_size: int
    ) -> Val:
        size = float_size
        items = 0
        item = None
        for seq, times in ((a, b), (b, a)):
            if not (seq.text and times.integer):
                continue
            count = repetitions(times)
            if count is None or seq.size * count >= NO_BOUND:
                self.refuse(
                    node,
                    "repeats a value a number of times the checker cannot bound",
                    "repeat by a small literal number, as in {{ '★' * 3 }}, or by a "
                    "progress count such as progress.V.reached",
                )
                return EMPTY
            size = max(size, seq.size * count)
            items = max(items, seq.items * count)
            item = seq.member() if item is None else either(item, seq.member())
        lo = hi = None
        if INT in kinds:
            lo, hi = interval(a, b, lambda x, y: x * y)
            if too_many_bits(lo, hi):
                lo = hi = None
            size = max(size, a.size + b.size)
        if items:
            kinds |= {TEXT}
        val = Val(saturate(size), kinds, lo, hi, items=saturate(items), item=item)
        if isinstance(a.data, str) and b.lin is not None and b.kinds == frozenset({INT}):
            val = replace(val, terms=((len(a.data), b.lin),))  # '●' * s.reached
        elif a.lin and b.lin and (not a.lin.coefs or not b.lin.coefs):
            val = replace(
                val, lin=a.lin.times(b.lin.const) if not b.lin.coefs else (b.lin.times(a.lin.const))
            )
        return self.built(node, val, "repeat by a small number, as in {{ '★' * 3 }}")

    def modulo(
        self, node: nodes.Mod, a: Val, b: Val, kinds: frozenset[str], float_size: int
    ) -> Val:
        if a.text:  # each conversion shows one of a literal tuple's (or dict's) values
            shown = b.member().size if isinstance(node.right, nodes.Tuple | nodes.Dict) else b.size
            return self.printf(node, node.left, a, shown)
        most = magnitude(b) if INT in kinds else None
        return Val(max(b.size, float_size), kinds, None if most is None else -most, most, items=0)

    def printf(self, node: nodes.Node, subject: nodes.Node | None, fmt: Val, shown: int) -> Val:
        """`fmt % values` or `fmt|format(…)`: the format must be a literal, its widths small."""
        if not isinstance(fmt.data, str):
            what = show(subject) if subject is not None else "the text"
            self.refuse(
                node,
                f"formats with {what}, a text the checker cannot read",
                "write the format as a literal, as in {{ '%s items' % n }}; for a "
                "remainder, make it a number first: (x|int) % 2",
            )
            return EMPTY
        widths = printf_widths(fmt.data)
        if widths is None:
            self.refuse(
                node,
                "takes a width from its values ('*')",
                "write the width in the format, as in '%5s'",
            )
            return EMPTY
        if widths and max(widths) > MAX_WIDTH:
            self.refuse(
                node, f"pads to {max(widths):,} characters", f"a width may be at most {MAX_WIDTH}"
            )
            return EMPTY
        size = len(fmt.data)
        for match in PRINTF.finditer(fmt.data):  # %r shows a repr(), %s a str()
            size += max(widths, default=0) + (CHAR_REPR if match.group(3) in "ra" else 1) * shown
        return self.built(node, text(size), "format fewer or shorter values")

    def power(self, node: nodes.BinExpr, a: Val, b: Val, kinds: frozenset[str]) -> Val:
        if INT not in kinds:
            return FLOAT_VAL if FLOAT in kinds else EMPTY
        base, exponent = magnitude(a), b.hi
        if base is None or exponent is None:
            self.refuse(
                node,
                "raises to a power the checker cannot bound",
                "write the number itself, or use small literals, as in 2 ** 8",
            )
            return EMPTY
        if exponent > 0 and base > 1 and exponent * base.bit_length() > MAX_INT_BITS:
            self.refuse(
                node,
                f"makes a number of up to {exponent * base.bit_length():,} bits",
                f"a dialog text may make numbers of at most {MAX_INT_BITS} bits "
                "(about 1,200 digits)",
            )
            return EMPTY
        most = base ** max(exponent, 1)
        lo, hi = -most, most
        if a.lo is not None and a.lo == a.hi and b.lo is not None and b.lo == exponent >= 0:
            lo = hi = a.lo**b.lo  # literals: exactly
        elif a.lo is not None and a.lo >= 0:
            lo = 0
        size = max(digits(most) + 1, FLOAT_SIZE if FLOAT in kinds else 0)
        return Val(size, kinds, lo, hi, items=0)

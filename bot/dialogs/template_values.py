"""What the template checker knows of a value (`Val`): its kinds, an upper bound of its
size and of its items, its integer range; the values the walk starts from (`number`,
`text`, `unknown`, `listing`, `container`…), how two of them combine (`either`,
`interval`), and the limits the whole analysis shares."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.core.render import MAX_INT_BITS
from bot.dialogs.template_counts import Lin, Terms

UNBOUNDED = 10**9
DEFAULT_VALUE_LENGTH = 64  # what an unknown value may take, e.g. a first name (64 max)
MAX_STEPS = 100_000  # loop turns times the work of each turn (about 10 ms at worst)
CHARS_PER_STEP = 64  # building this many characters counts as one step
STEPS_PER_ITEM = 16  # what a filter's Python loop (sort, join, map…) takes per item
CAP = 10**18  # sizes and steps saturate here ("any size")
NO_BOUND = 10**15  # a bound this large is no bound: "a number the checker cannot bound"
CHAR_REPR = 10  # a character's longest repr() inside a list: '\U0001f600'
FLOAT_SIZE = 24  # the longest repr() of a float

TEXT, INT, FLOAT, OTHER, LOOP = "text", "int", "float", "other", "loop"
ANY_KIND = frozenset({TEXT, INT, FLOAT, OTHER})


def saturate(n: int) -> int:
    return min(max(n, 0), CAP)


def digits(n: int) -> int:
    return len(str(abs(n))) + (n < 0)


@dataclass(frozen=True, slots=True)
class Val:
    """What the checker knows of a value: an upper bound of its `str()` length (its
    size), of its items when iterated, and, if it may be an integer, its range."""

    size: int
    kinds: frozenset[str] = ANY_KIND  # text: a str or list (what `*` repeats)
    lo: int | None = None  # if an integer: its least value (None: unknown)
    hi: int | None = None
    items: int = CAP
    item: Val | None = None  # one of its items (None: anything within its size)
    fields: Mapping[str, Val] | None = None  # known attributes (the checker's table)
    returns: Val | None = None  # what calling it gives (a joiner)
    data: object = None  # the constant it is, if it is one
    lin: Lin | None = None  # if an integer known exactly in terms of counts
    terms: Terms | None = None  # if a text whose size is known in terms of counts

    @property
    def text(self) -> bool:
        return TEXT in self.kinds

    @property
    def integer(self) -> bool:
        return INT in self.kinds

    def member(self) -> Val:
        if self.item is not None:
            return self.item
        return unknown(self.size, items=self.size)

    def attribute(self, name: str) -> Val:
        if self.fields is not None:
            found = self.fields.get(name)
            return found if found is not None else unknown(DEFAULT_VALUE_LENGTH)
        return unknown(max(self.size, 80), items=self.size)  # a member, or a method


def number(lo: int | None, hi: int | None, size: int | None = None) -> Val:
    if size is None:
        size = max(digits(lo), digits(hi)) if lo is not None and hi is not None else 320
    return Val(size, frozenset({INT}), lo, hi, items=0)


def text(size: int) -> Val:
    size = saturate(size)
    return Val(size, frozenset({TEXT}), items=size, item=_CHAR)


def unknown(size: int, items: int = CAP) -> Val:
    """Anything whose `str()` is at most `size` long: as an integer, at most that many
    digits (a float is never a count: `|int` turns it into an unknown number)."""
    size = saturate(size)
    hi = 10**size - 1 if size <= 1000 else None
    return Val(size, ANY_KIND, -hi if hi is not None else None, hi, items=saturate(items))


def listing(items: int, item: Val) -> Val:
    """A list of `items` values like `item`, as `str()` shows it."""
    items = saturate(items)
    shown = CHAR_REPR * item.size if item.kinds - {INT, FLOAT} else item.size  # repr() of texts
    return Val(saturate(items * (shown + 4) + 2), frozenset({TEXT}), items=items, item=item)


def container(fields: Mapping[str, Val], size: int | None = None) -> Val:
    shown = sum(CHAR_REPR * (len(k) + v.size) + 6 for k, v in fields.items()) + 2
    return Val(
        saturate(shown if size is None else size),
        frozenset({OTHER}),
        items=len(fields),
        item=text(max((len(k) for k in fields), default=0)),
        fields=fields,
    )


_CHAR = Val(1, frozenset({TEXT}), items=1)
BOOL = number(0, 1, size=5)
NONE = Val(4, frozenset({OTHER}), items=0)
EMPTY = Val(0, frozenset({TEXT}), items=0)
FLOAT_VAL = Val(FLOAT_SIZE, frozenset({FLOAT}), items=0)


def _join_opt(a: int | None, b: int | None, pick: Callable[[int, int], int]) -> int | None:
    return None if a is None or b is None else pick(a, b)


def either(a: Val, b: Val) -> Val:
    """A value that is `a` or `b`."""
    if a is b:
        return a
    lo = _join_opt(a.lo, b.lo, min) if a.integer and b.integer else (a.lo if a.integer else b.lo)
    hi = _join_opt(a.hi, b.hi, max) if a.integer and b.integer else (a.hi if a.integer else b.hi)
    item = None if a.item is None or b.item is None else either(a.item, b.item)
    fields = None
    if a.fields is not None and b.fields is not None:
        fields = {
            k: either(a.fields[k], b.fields[k]) if k in b.fields else a.fields[k] for k in a.fields
        } | {k: v for k, v in b.fields.items() if k not in a.fields}
    returns = None
    if a.returns is not None or b.returns is not None:
        returns = either(a.returns or EMPTY, b.returns or EMPTY)
    return Val(
        max(a.size, b.size), a.kinds | b.kinds, lo, hi, max(a.items, b.items), item, fields, returns
    )


def interval(a: Val, b: Val, op: Callable[[int, int], int]) -> tuple[int | None, int | None]:
    """The range of `op` over two integer ranges (op monotone in each argument)."""
    if None in (a.lo, a.hi, b.lo, b.hi):
        return None, None
    corners = [op(x, y) for x in (a.lo, a.hi) for y in (b.lo, b.hi)]  # type: ignore[arg-type]
    return min(corners), max(corners)


def magnitude(v: Val) -> int | None:
    return None if v.lo is None or v.hi is None else max(abs(v.lo), abs(v.hi))


def too_many_bits(lo: int | None, hi: int | None) -> bool:
    return lo is not None and hi is not None and max(abs(lo), abs(hi)).bit_length() > MAX_INT_BITS


def known(n: int | None) -> int | None:
    """`n`, unless it is beyond anything a dialog could mean (a number of 16 digits)."""
    return None if n is None or n >= NO_BOUND else n


def repetitions(v: Val) -> int | None:
    """The most times `v` may repeat a text (None: no bound)."""
    most = known(v.hi)
    return None if most is None else max(most, 0)

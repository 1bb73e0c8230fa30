"""The walk's filters: how a filter is applied (`FilterWalk.filter`), and the handler of
each filter dialog templates may use, with the bound it gives (`FILTERS`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from jinja2 import nodes

from bot.core.render import MAX_ITEMS, MAX_WIDTH
from bot.dialogs.template_values import (
    CHAR_REPR,
    EMPTY,
    FLOAT,
    FLOAT_SIZE,
    FLOAT_VAL,
    INT,
    NONE,
    OTHER,
    STEPS_PER_ITEM,
    TEXT,
    Val,
    container,
    either,
    interval,
    known,
    listing,
    magnitude,
    number,
    saturate,
    text,
)
from bot.dialogs.template_walk import WalkBase
from bot.dialogs.template_whitelist import MAP_SAFE, NUMBER_TESTS, SAME_FILTERS, WALKING_FILTERS


class FilterWalk(WalkBase):
    """Filters, and the checks on their widths, counts and tests."""

    def filter(self, node: nodes.Filter, scope: dict[str, Val], subject: Val | None) -> Val:
        val = subject if node.node is None else self.expr(node.node, scope)
        assert val is not None
        if self.dynamic(node):
            return EMPTY
        args = [self.expr(a, scope) for a in node.args]
        kwargs = {str(k.key): self.expr(k.value, scope) for k in node.kwargs}
        handler = FILTERS.get(node.name)
        if handler is None:
            why = "which dialog texts may not use"
            if self.jinja_filters and node.name not in self.jinja_filters:
                why = "which Jinja2 does not have"
            self.refuse(
                node,
                f"uses the filter '{node.name}', {why}",
                "they may use " + ", ".join(sorted(FILTERS)),
            )
            return EMPTY
        if node.name in WALKING_FILTERS:  # a Python loop over the items
            self.steps = saturate(self.steps + STEPS_PER_ITEM * val.items)
        return handler(self, node, val, FilterArgs(args, kwargs))

    def width(self, node: nodes.Node, val: Val, what: str, advice: str) -> int | None:
        """A padding width: a number the checker can bound, at most MAX_WIDTH."""
        if not val.integer and val.text:
            return val.size
        most = known(val.hi)
        if most is None:
            self.refuse(node, f"{what} to a width the checker cannot bound", advice)
            return None
        if most > MAX_WIDTH:
            self.refuse(
                node,
                f"{what} to up to {most:,} characters",
                f"a width may be at most {MAX_WIDTH}; {advice}",
            )
            return None
        return max(most, 0)

    def counted(self, node: nodes.Node, val: Val, advice: str) -> int | None:
        """A number of items or batches: one the checker can bound, at most MAX_ITEMS."""
        most = known(val.hi)
        if most is None or most > MAX_ITEMS:
            shown = "a number the checker cannot bound" if most is None else f"{most:,}"
            self.refuse(node, f"makes {shown} items or batches", advice)
            return None
        return max(most, 1)

    def test_name(self, node: nodes.Filter, test: Val, item: Val) -> None:
        if isinstance(test.data, str) and test.data in NUMBER_TESTS and item.text:
            self.refuse(
                node,
                f"applies '{test.data}' to items the checker cannot tell are "
                f"numbers (on a text, '{test.data}' formats it)",
                "select numbers only, or compare: selectattr('n', 'gt', 0)",
            )


@dataclass(frozen=True, slots=True)
class FilterArgs:
    """A filter's arguments, each found by its position or its name."""

    args: list[Val]
    kwargs: dict[str, Val] = field(default_factory=dict)

    def get(self, position: int, name: str, default: Val | None = None) -> Val | None:
        if position < len(self.args):
            return self.args[position]
        return self.kwargs.get(name, default)


FilterRule = Callable[[FilterWalk, nodes.Filter, Val, FilterArgs], Val]


def _f_same(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    return text(val.size)


def _f_list_like(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    return w.built(node, listing(val.items, val.member()), "work on a shorter list")


def _f_member(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    return either(val.member(), NONE)


def _f_length(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    return number(0, val.items)


def _f_wordcount(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    return number(0, val.size)


def _f_int(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    default = a.get(0, "default", number(0, 0))
    assert default is not None
    if isinstance(val.data, str):
        try:
            exact = int(val.data)  # what the filter tries first
        except ValueError:
            pass
        else:
            return either(number(exact, exact), default)
    if val.kinds == frozenset({INT}):
        return either(replace(val, data=None), default)
    return either(number(None, None, size=320 + 2 * val.size), default)  # "1e99"|int


def _f_float(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    return FLOAT_VAL


def _f_abs(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    most = magnitude(val)
    return Val(val.size, val.kinds & {INT, FLOAT}, 0, most, items=0)


def _f_default(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    return either(val, a.get(0, "default_value", EMPTY) or EMPTY)


def _f_join(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    sep = a.get(0, "d", EMPTY) or EMPTY
    attribute = a.get(1, "attribute")
    item = val.member()
    if attribute is not None:
        item = item.attribute(attribute.data) if isinstance(attribute.data, str) else item.member()
    return w.join(node, val, item, sep)


def _f_attr(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    name = a.get(0, "name")
    if name is not None and isinstance(name.data, str):
        return val.attribute(name.data)
    return val.member()


def _f_map(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    attribute = a.kwargs.get("attribute")
    if attribute is not None and not a.args:
        name = attribute.data
        item = val.member().attribute(name) if isinstance(name, str) else val.member().member()
        default = a.kwargs.get("default")
        return listing(val.items, either(item, default) if default is not None else item)
    chosen = a.args[0].data if a.args else None
    rule = FILTERS.get(chosen) if isinstance(chosen, str) else None
    if rule is None or len(a.args) > 1 or a.kwargs or chosen not in MAP_SAFE:
        w.refuse(
            node,
            "applies a filter the checker cannot follow item by item",
            "use map(attribute='name'), or map() with one of "
            + ", ".join(sorted(MAP_SAFE))
            + " and no arguments",
        )
        return EMPTY
    return listing(val.items, rule(w, node, val.member(), FilterArgs([])))


def _f_select(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    if node.name in ("selectattr", "rejectattr"):
        attribute, test = a.get(0, "attribute"), a.get(1, "test")
        item = val.member()
        if attribute is not None and isinstance(attribute.data, str):
            item = item.attribute(attribute.data)
        if test is not None:
            w.test_name(node, test, item)
    else:
        test = a.get(0, "test")
        if test is not None:
            w.test_name(node, test, val.member())
    return listing(val.items, val.member())


def _f_groupby(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    attribute = a.get(0, "attribute")
    item = val.member()
    grouper = (
        item.attribute(attribute.data)
        if attribute is not None and isinstance(attribute.data, str)
        else item.member()
    )
    group = container({"grouper": grouper, "list": listing(val.items, item)})
    return listing(val.items, replace(group, kinds=frozenset({TEXT, OTHER}), items=2))


def _f_sum(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    if a.get(1, "start") is not None:
        w.refuse(
            node,
            "adds up lists or texts from 'start'",
            "sum numbers only: |sum or |sum(attribute='n')",
        )
        return EMPTY
    attribute = a.get(0, "attribute")
    item = val.member()
    if attribute is not None and isinstance(attribute.data, str):
        item = item.attribute(attribute.data)
    lo, hi = interval(item, number(0, val.items), lambda x, y: x * y)
    kinds = item.kinds & {INT, FLOAT}
    size = max(item.size + len(str(val.items)), FLOAT_SIZE if FLOAT in kinds else 0)
    return Val(
        size, kinds, None if lo is None else min(lo, 0), None if hi is None else max(hi, 0), items=0
    )


def _f_center(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    width = w.width(
        node,
        a.get(0, "width", number(80, 80)) or EMPTY,
        "pads",
        "give a literal width, as in center(20)",
    )
    return EMPTY if width is None else text(max(val.size, width))


def _f_indent(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    width = w.width(
        node,
        a.get(0, "width", number(4, 4)) or EMPTY,
        "indents",
        "give a literal width, as in indent(4)",
    )
    if width is None:
        return EMPTY
    return w.built(node, text(val.size + 1 + (val.size + 2) * width), "indent a shorter text")


def _f_wordwrap(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    width = w.width(
        node,
        a.get(0, "width", number(79, 79)) or EMPTY,
        "wraps",
        "give a literal width, as in wordwrap(40)",
    )
    wrapstring = a.get(2, "wrapstring", text(1)) or EMPTY
    if width is None:
        return EMPTY
    val = text(val.size + (val.size + 1) * max(wrapstring.size, 1))
    return w.built(node, val, "wrap with a shorter wrapstring")


def _f_truncate(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    end = a.get(2, "end", text(3)) or EMPTY
    return text(val.size + end.size)


def _f_replace(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    new = a.get(1, "new", EMPTY) or EMPTY
    return w.built(node, text(val.size + (val.size + 1) * new.size), "replace with a shorter text")


def _f_format(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    shown = max((v.size for v in (*a.args, *a.kwargs.values())), default=0)
    return w.printf(node, node.node, val, shown)


def _f_batch(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    size = w.counted(
        node,
        a.get(0, "linecount" if node.name == "batch" else "slices") or EMPTY,
        "give a small literal number, as in batch(3)",
    )
    if size is None:
        return EMPTY
    fill = a.get(1, "fill_with", NONE) or NONE
    item = either(val.member(), fill)
    total = val.items + size  # the items, and at most `size` fillers
    group = listing(min(total, size) if node.name == "batch" else total, item)
    batches = val.items if node.name == "batch" else size
    return w.built(
        node,
        listing(batches, replace(group, items=min(group.items, total))),
        "batch a shorter list",
    )


def _f_tojson(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
    if a.get(0, "indent") is not None:
        w.refuse(node, "indents JSON, which the checker cannot bound", "write |tojson alone")
        return EMPTY
    return w.built(node, text(12 * val.size), "show a shorter value")


def _f_times(factor: int) -> FilterRule:
    def rule(w: FilterWalk, node: nodes.Filter, val: Val, a: FilterArgs) -> Val:
        return w.built(node, text(factor * val.size + 16), "show a shorter value")

    return rule


FILTERS: dict[str, FilterRule] = {
    **dict.fromkeys(SAME_FILTERS, _f_same),
    **dict.fromkeys(("list", "sort", "unique", "reverse", "dictsort", "items"), _f_list_like),
    **dict.fromkeys(("first", "last", "random", "min", "max"), _f_member),
    **dict.fromkeys(("length", "count"), _f_length),
    **dict.fromkeys(("select", "reject", "selectattr", "rejectattr"), _f_select),
    **dict.fromkeys(("batch", "slice"), _f_batch),
    **dict.fromkeys(("default", "d"), _f_default),
    "wordcount": _f_wordcount,
    "int": _f_int,
    "float": _f_float,
    "round": _f_float,
    "abs": _f_abs,
    "join": _f_join,
    "attr": _f_attr,
    "map": _f_map,
    "groupby": _f_groupby,
    "sum": _f_sum,
    "center": _f_center,
    "indent": _f_indent,
    "wordwrap": _f_wordwrap,
    "truncate": _f_truncate,
    "replace": _f_replace,
    "format": _f_format,
    "tojson": _f_tojson,
    "filesizeformat": _f_times(0),
    "pprint": _f_times(CHAR_REPR),
    "urlencode": _f_times(12),
    "xmlattr": _f_times(CHAR_REPR),
}

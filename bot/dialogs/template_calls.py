"""The walk's calls: the functions dialog templates may call (`range`, `dict`, `joiner`),
the loop's `cycle()`/`changed()`, and the whitelisted methods of texts and dicts."""

from __future__ import annotations

from jinja2 import nodes

from bot.core.render import MAX_ITEMS
from bot.dialogs.template_show import show
from bot.dialogs.template_values import (
    BOOL,
    EMPTY,
    LOOP,
    NONE,
    OTHER,
    Val,
    container,
    either,
    listing,
    number,
    text,
)
from bot.dialogs.template_walk import WalkBase
from bot.dialogs.template_whitelist import (
    COUNT_METHODS,
    DICT_METHODS,
    FUNCTIONS,
    METHODS,
    SAME_METHODS,
    SPLIT_METHODS,
    TEST_METHODS,
    method_list,
)


class CallWalk(WalkBase):
    """Calls of the allowed functions and methods."""

    def e_call(self, node: nodes.Call, scope: dict[str, Val]) -> Val:
        if self.dynamic(node):
            return EMPTY
        args = [self.expr(a, scope) for a in node.args]
        kwargs = {str(k.key): self.expr(k.value, scope) for k in node.kwargs}
        callee = node.node
        if isinstance(callee, nodes.Getattr):
            return self.method(node, self.expr(callee.node, scope), callee.attr, args, kwargs)
        if isinstance(callee, nodes.Name):
            local = scope.get(callee.name)
            if local is not None and local.returns is not None:
                return local.returns
            if local is None and callee.name == "range":
                return self.range_(node, args)
            if local is None and callee.name == "dict":
                return container(kwargs)
            if local is None and callee.name == "joiner":
                sep = args[0] if args else kwargs.get("sep", text(2))
                return Val(80, frozenset({OTHER}), items=0, returns=text(sep.size))
        advice = "they may call " + ", ".join(f"{f}()" for f in FUNCTIONS)
        if isinstance(callee, nodes.Name) and callee.name == "namespace":
            advice = (
                "a namespace's values can grow at each turn of a loop; use loop.index, "
                "loop.first, loop.last or |length instead"
            )
        self.refuse(node, f"calls {show(callee, 11)}(), which dialog texts may not call", advice)
        return EMPTY

    def range_(self, node: nodes.Call, args: list[Val]) -> Val:
        if not 1 <= len(args) <= 3 or any(not a.integer for a in args):
            self.refuse(node, "is not a range() of numbers", "write range(5) or range(1, 6)")
            return EMPTY
        start, stop = (args[0], args[1]) if len(args) > 1 else (number(0, 0), args[0])
        bounds = [start.lo, start.hi, stop.lo, stop.hi]
        if any(x is None for x in bounds):
            self.refuse(
                node,
                "counts to a number the checker cannot bound",
                "loop over range() of a literal, as in range(5), or over a list the bot passes",
            )
            return EMPTY
        exact = [a.lo for a in args if a.lo is not None and a.lo == a.hi]
        if len(exact) == len(args):
            count = len(range(*exact)) if exact[2:] != [0] else 0  # step 0: range() fails
        else:
            assert start.lo is not None and start.hi is not None
            assert stop.lo is not None and stop.hi is not None
            count = max(stop.hi - start.lo, start.hi - stop.lo, 0)
        if count > MAX_ITEMS:
            self.refuse(
                node,
                f"counts up to {count:,} numbers",
                f"range() gives at most {MAX_ITEMS:,} (the sandbox refuses more); "
                "loop over a small range, as in range(5)",
            )
            return EMPTY
        known = [x for x in bounds if x is not None]
        item = number(min(known), max(known))
        return Val(11 + 3 * item.size, frozenset({OTHER}), items=count, item=item)

    def method(
        self, node: nodes.Call, obj: Val, name: str, args: list[Val], kwargs: dict[str, Val]
    ) -> Val:
        if LOOP in obj.kinds and name in ("cycle", "changed"):
            if name == "changed":
                return BOOL
            result = EMPTY
            for arg in args:
                result = either(result, arg)
            return result
        if name not in METHODS:
            advice = f"they may call {method_list()}"
            if name in ("format", "format_map"):
                advice = "join texts with ~, or use a literal format: {{ '%s items' % n }}"
            elif name in ("center", "ljust", "rjust", "zfill", "expandtabs"):
                advice = "pad with the center filter and a literal width, as in |center(20)"
            self.refuse(node, f"calls the method {name}(), which dialog texts may not call", advice)
            return EMPTY
        if name in SAME_METHODS:
            return text(obj.size)
        if name in TEST_METHODS:
            return BOOL
        if name in COUNT_METHODS:
            return number(-1, obj.size + 1)
        if name in SPLIT_METHODS:
            return listing(obj.size + 1, text(obj.size))
        if name == "get":
            default = args[1] if len(args) > 1 else kwargs.get("default", NONE)
            return either(obj.member(), default)
        if name in DICT_METHODS:  # keys(), values(), items()
            return listing(obj.items, obj.member())
        if name == "replace":
            new = args[1] if len(args) > 1 else kwargs.get("new", EMPTY)
            val = text(obj.size + (obj.size + 1) * new.size)
            return self.built(node, val, "replace with a shorter text")
        sequence = args[0] if args else kwargs.get("iterable", EMPTY)  # join
        return self.join(node, sequence, sequence.member(), obj)

    def join(self, node: nodes.Node, sequence: Val, item: Val, sep: Val) -> Val:
        items = sequence.items
        val = text(items * item.size + max(items - 1, 0) * sep.size)
        return self.built(node, val, "join fewer items, or with a shorter separator")

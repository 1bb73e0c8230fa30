"""The whitelist of dialog templates: the methods, filters, tests and functions the
checker follows with a bound on what they build (anything else is refused), and the
expressions that only read a value."""

from __future__ import annotations

from jinja2 import nodes


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


SAME_METHODS = _words(
    "upper lower title capitalize casefold swapcase strip lstrip rstrip removeprefix removesuffix"
)
TEST_METHODS = _words(
    "startswith endswith isalnum isalpha isascii isdecimal isdigit islower isnumeric isspace "
    "istitle isupper"
)
COUNT_METHODS = _words("count find rfind index rindex")
SPLIT_METHODS = _words("split rsplit splitlines")
DICT_METHODS = _words("get keys values items")
METHODS = SAME_METHODS | TEST_METHODS | COUNT_METHODS | SPLIT_METHODS | DICT_METHODS
METHODS |= {"replace", "join"}
SAME_FILTERS = _words(
    "capitalize lower upper title trim striptags safe string e escape forceescape urlize"
)
WALKING_FILTERS = _words(  # a Python loop over the items
    "list sort unique reverse dictsort items min max select reject selectattr rejectattr map "
    "groupby batch slice sum join"
)
NUMBER_TESTS = frozenset({"even", "odd", "divisibleby"})  # `value % n`: a format on a text
FUNCTIONS = ("range", "dict", "joiner")


# What only reads a value (or picks one of two), and so builds nothing.
LOOKUPS = (
    nodes.Const,
    nodes.Name,
    nodes.Getattr,
    nodes.Getitem,
    nodes.CondExpr,
    nodes.And,
    nodes.Or,
    nodes.Compare,
    nodes.Not,
    nodes.Test,
)


def method_list() -> str:
    return ", ".join(f"{m}()" for m in sorted(METHODS))


# The filters map() may apply to each item (with no arguments).
MAP_SAFE = SAME_FILTERS | _words("length count int float abs first last wordcount round")

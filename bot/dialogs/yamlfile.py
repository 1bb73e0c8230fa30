"""YAML with line numbers, parsed by libyaml (PyYAML's C parser) when available.

Mappings and lists come back as dict and list subclasses that remember the line of each
key and item, so that every problem can be reported as `file:line`. Duplicate keys,
which YAML parsers usually let pass silently, are errors.
"""

from __future__ import annotations

from typing import Any

import yaml

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml if PyYAML has it

MarkedError = yaml.MarkedYAMLError
YamlError = yaml.YAMLError


class LineDict(dict[Any, Any]):
    """A mapping that knows its own line and each key's line (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]


class LineList(list[Any]):
    line: int = 0
    item_lines: list[int]


class DuplicateKeyError(yaml.MarkedYAMLError):
    pass


class _Loader(_Base):  # type: ignore[misc]
    pass


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line, out.key_lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value", key_node.start_mark
            )
        if key in out:
            raise DuplicateKeyError(
                "while reading a mapping",
                node.start_mark,
                f'duplicate key "{key}" (first on line {out.key_lines[key]})',
                key_node.start_mark,
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line, out.item_lines = node.start_mark.line + 1, [c.start_mark.line + 1 for c in node.value]
    return out


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    # A date stays the text the operator wrote (`reviewed: 2026-12-01`): the checker reads
    # it and says what is wrong with `2026-02-30`, where PyYAML would raise ValueError.
    return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _sequence)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def load(text: str) -> Any:
    """Parse one YAML document; raises yaml.MarkedYAMLError with the line of the problem."""
    return yaml.load(text, Loader=_Loader)


def line_of(doc: Any, path: tuple[Any, ...]) -> int:
    """1-based line of the key or item at `path` in `doc` (the deepest that exists)."""
    cur, line = doc, getattr(doc, "line", 1)
    for step in path:
        if isinstance(cur, LineDict) and step in cur:
            line = cur.key_lines[step]
            cur = cur[step]
        elif isinstance(cur, LineList) and isinstance(step, int) and 0 <= step < len(cur):
            line = cur.item_lines[step]
            cur = cur[step]
        else:
            break
    return line

"""Schema validation of the parsed dialog files: each JSON Schema error becomes a
sentence an operator can act on, with the file and line it points at."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from bot.dialogs import schema
from bot.dialogs.parse import Parsed
from bot.errors import Problem


def _schema_for(kind: str, languages: Sequence[str]) -> schema.Schema:
    if kind == "flow":
        return schema.flow_schema(languages)
    if kind == "facts":
        return schema.facts_schema(languages)
    if kind == "intents":
        return schema.intents_schema(languages)
    return schema.messages_schema(languages)


def _describe(
    error: ValidationError, languages: Sequence[str]
) -> list[tuple[tuple[Any, ...], str]]:
    """Turn one schema error into (path, friendly message) pairs."""
    path = tuple(error.absolute_path)
    if "propertyNames" in error.schema_path and isinstance(error.instance, str):
        return [
            (
                (*path, error.instance),
                f"{error.instance!r} is not a valid id (lowercase letters, digits, _)",
            )
        ]
    name = next((str(p) for p in reversed(path) if isinstance(p, str)), "file")
    props = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    is_texts = set(props) == set(languages) and bool(props)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        out = []
        for key in error.instance:
            if key in props:
                continue
            if is_texts:
                out.append(
                    (
                        (*path, key),
                        f"unknown language '{key}' (configured: {', '.join(languages)})",
                    )
                )
            else:
                hint = difflib.get_close_matches(str(key), list(props), n=1)
                tip = f" (did you mean '{hint[0]}'?)" if hint else ""
                out.append(((*path, key), f"unknown key '{key}' in {name}{tip}"))
        return out
    if error.validator == "required":
        required = error.validator_value if isinstance(error.validator_value, list) else []
        present = error.instance if isinstance(error.instance, dict) else {}
        missing = [k for k in required if k not in present]
        if is_texts:
            return [(path, f"{name}: missing translation '{k}'") for k in missing]
        return [(path, f"{name}: missing key '{k}'") for k in missing]
    if error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        got = type(error.instance).__name__
        return [(path, f"{name}: expected {wanted}, got {got} {_short(error.instance)}")]
    if error.validator == "pattern":
        pattern = str(error.validator_value)
        if pattern.startswith("^https?"):
            what = "an http(s) address"
        elif pattern == schema.DOMAIN:
            what = "a domain name such as bit.ly (lowercase, no https://)"
        elif "\\." in pattern:
            what = "a target: node or flow.node, in lowercase letters, digits and _"
        else:
            what = "an id: lowercase letters, digits and _"
        return [(path, f"{name}: {_short(error.instance)} is not {what}")]
    if error.validator == "enum" and isinstance(error.validator_value, list):
        options = ", ".join(map(str, error.validator_value))
        return [(path, f"{name}: {_short(error.instance)} is not one of {options}")]
    if error.validator == "maxLength":
        return [
            (
                path,
                f"{name}: {_short(error.instance)} is longer than {error.validator_value} characters",
            )
        ]
    if error.validator == "minLength":
        return [(path, f"{name}: must not be empty")]
    return [(path, f"{name}: {error.message}")]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def validate_files(parsed: Parsed, languages: Sequence[str]) -> None:
    """Check each file against its schema, marking valid files and adding problems."""
    for source in parsed.files:
        assert source.kind is not None
        validator = Draft202012Validator(_schema_for(source.kind, languages))
        found = False
        for error in validator.iter_errors(source.doc):
            for path, message in _describe(error, languages):
                found = True
                node = (
                    path[1]
                    if source.kind == "flow" and len(path) > 1 and path[0] == "nodes"
                    else None
                )
                parsed.problems.append(Problem(source.path, source.line(*path), node, message))
        source.valid = not found

"""JSON Schemas for the four kinds of dialog file (flows, facts, messages, intents).

The schemas are built for the configured languages, so that a missing or an unknown
translation is reported by the same validator as an unknown key or a wrong type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.model import STAGES

ID = r"^[a-z][a-z0-9_]*$"
TARGET = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$"
INPUT_KINDS = ("url", "short_url")
DOMAIN = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$"

Schema = dict[str, Any]


def texts(languages: Sequence[str]) -> Schema:
    """A user-visible string: one non-empty entry per language."""
    return {
        "type": "object",
        "properties": {lang: {"type": "string", "minLength": 1} for lang in languages},
        "required": list(languages),
        "additionalProperties": False,
    }


def _keywords(languages: Sequence[str]) -> Schema:
    words = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
    return {
        "type": "object",
        "properties": {lang: words for lang in languages},
        "required": list(languages),
        "additionalProperties": False,
    }


_SCALAR: Schema = {"type": ["string", "integer", "number", "boolean"]}
_SET: Schema = {
    "type": "object",
    "propertyNames": {"pattern": ID},
    "additionalProperties": _SCALAR,
}
_TARGET: Schema = {"type": "string", "pattern": TARGET}
_CONDITION: Schema = {"type": "string", "minLength": 1}
_INTENT: Schema = {"type": "string", "pattern": ID, "maxLength": 32}
_INTENTS: Schema = {"type": "array", "items": _INTENT, "minItems": 1, "uniqueItems": True}


def _nudges(languages: Sequence[str], min_items: int) -> Schema:
    """Follow-up reminders: at most three, each `after` a delay and what it says."""
    return {
        "type": "array",
        "minItems": min_items,
        "maxItems": 3,
        "items": {
            "type": "object",
            "properties": {
                "after": {"type": "string", "minLength": 1},
                "say": texts(languages),
            },
            "required": ["after", "say"],
            "additionalProperties": False,
        },
    }


def _say(languages: Sequence[str]) -> Schema:
    """A node's text: one per language, or named variants of it (an A/B test). A mapping
    with any of `experiment`, `outcome`, `variants` is read as the second, so that each
    mistake is told as one of that shape. How many variants, weights below zero and an
    outcome naming both or neither are said by the builder (`variant_read`)."""
    variant = {
        "type": "object",
        "properties": {
            "weight": {"type": "number"},  # not true/false: JSON Schema's numbers are not
            **{lang: {"type": "string", "minLength": 1} for lang in languages},
        },
        "required": list(languages),
        "additionalProperties": False,
    }
    variants = {
        "type": "object",
        "properties": {
            "experiment": {"type": "string", "pattern": ID, "maxLength": 40},
            "outcome": {
                "type": "object",
                "properties": {
                    "milestone": {"type": "string", "pattern": ID},
                    "stage": {"enum": list(STAGES)},
                },
                "additionalProperties": False,
            },
            "variants": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": ID, "maxLength": 32},
                "additionalProperties": variant,
            },
        },
        "required": ["experiment", "outcome", "variants"],
        "additionalProperties": False,
    }
    keys = [{"required": [key]} for key in ("experiment", "outcome", "variants")]
    return {
        "if": {"type": "object", "anyOf": keys},
        "then": variants,
        "else": texts(languages),
    }


def flow_schema(languages: Sequence[str]) -> Schema:
    """Schema of a flow file (`flow:` at the top)."""
    button = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": ID, "maxLength": 32},
            "label": texts(languages),
            "goto": _TARGET,
            "set": _SET,
            "when": _CONDITION,
            "intents": _INTENTS,
        },
        "required": ["id", "label", "goto"],
        "additionalProperties": False,
    }
    # which of match/intent/intents, and goto or say, is checked by the builder, with
    # a sentence that says what to write
    text_rule = {
        "type": "object",
        "properties": {
            "match": _keywords(languages),
            "intent": _INTENT,
            "intents": _INTENTS,
            "goto": _TARGET,
            "set": _SET,
            "say": texts(languages),
        },
        "additionalProperties": False,
    }
    branch = {
        "type": "object",
        "properties": {"if": _CONDITION, "goto": _TARGET},
        "required": ["goto"],
        "additionalProperties": False,
    }
    goto = {
        "if": {"type": "string"},
        "then": _TARGET,
        "else": {"type": "array", "items": branch, "minItems": 1},
    }
    node = {
        "type": "object",
        "properties": {
            "say": _say(languages),
            "fact": {"type": "string", "pattern": ID},
            "buttons": {"type": "array", "items": button},
            "on_text": {"type": "array", "items": text_rule},
            "goto": goto,
            "set": _SET,
            "milestone": {"type": "string", "pattern": ID},
            "completes": {"type": "boolean"},
            # [] on a node: no reminder here, not even the flow's default
            "nudges": _nudges(languages, min_items=0),
            "end": {"type": "boolean"},
            # the id(s) this node had before: people who stood there move here
            "renamed_from": {
                "oneOf": [
                    _TARGET,
                    {"type": "array", "items": _TARGET, "minItems": 1, "uniqueItems": True},
                ]
            },
            "input": {
                "type": "object",
                "properties": {
                    "kind": {"enum": list(INPUT_KINDS)},
                    "save": {"type": "string", "pattern": ID},
                    "goto": _TARGET,
                    "of": {"type": "string", "pattern": ID},
                    "shorteners": {
                        "type": "array",
                        "items": {"type": "string", "pattern": DOMAIN},
                        "minItems": 1,
                        "uniqueItems": True,
                    },
                },
                "required": ["kind", "save", "goto"],
                "additionalProperties": False,
            },
        },
        "required": ["say"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "flow": {"type": "string", "pattern": ID, "maxLength": 24},
            "stage": {"enum": list(STAGES)},
            "start": {"type": "string", "pattern": ID},
            "on_text": {"type": "array", "items": text_rule},
            # the default follow-ups of every node that waits and has no `nudges:`
            "nudges": _nudges(languages, min_items=1),
            "nodes": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": ID, "maxLength": 32},
                "additionalProperties": node,
            },
        },
        "required": ["flow", "start", "nodes"],
        "additionalProperties": False,
    }


def facts_schema(languages: Sequence[str]) -> Schema:
    """Schema of the facts file (`facts:` at the top)."""
    fact = {
        "type": "object",
        "properties": {
            "text": texts(languages),
            # who published the figure (the institute, not who reported it)
            "source": {"type": "string", "minLength": 1},
            "study": texts(languages),  # the study's title
            "scope": texts(languages),  # whom it is about: "internautes français de 13 ans…"
            "year": {"type": "integer", "minimum": 1990, "maximum": 2100},
            "url": {"type": "string", "pattern": r"^https?://\S+$"},
            # YYYY-MM-DD, quoted or not (the dialog reader keeps YAML dates as text). Any
            # value passes here, so that building the facts can say what to write instead
            # (`values.review_date`).
            "reviewed": {},
        },
        "required": ["text", "source", "study", "scope", "year", "url"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "facts": {
                "type": "object",
                "propertyNames": {"pattern": ID},
                "additionalProperties": fact,
            }
        },
        "required": ["facts"],
        "additionalProperties": False,
    }


def messages_schema(languages: Sequence[str]) -> Schema:
    """Schema of the bot's own messages file (`messages:` at the top)."""
    return {
        "type": "object",
        "properties": {
            "messages": {
                "type": "object",
                "propertyNames": {"pattern": r"^[A-Za-z][A-Za-z0-9_]*$"},
                "additionalProperties": texts(languages),
            }
        },
        "required": ["messages"],
        "additionalProperties": False,
    }


def intents_schema(languages: Sequence[str]) -> Schema:
    """Schema of the intents file (`intents:` at the top). How many examples each
    language has, and examples two intents share, are checked with their own sentences."""
    examples = {"type": "array", "items": {"type": "string", "minLength": 1}}
    intent = {
        "type": "object",
        "properties": {
            "label": texts(languages),
            "examples": {
                "type": "object",
                "properties": {lang: examples for lang in languages},
                "additionalProperties": False,
            },
        },
        "required": ["examples"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "intents": {
                "type": "object",
                "propertyNames": {"pattern": ID, "maxLength": 32},
                "additionalProperties": intent,
            }
        },
        "required": ["intents"],
        "additionalProperties": False,
    }

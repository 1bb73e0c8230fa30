"""Checks of what the dialogs say people mean: the intents file, and every rule and
button that names an intent.

An intent needs at least three examples in every language (fewer cannot teach the
matcher a way of saying it); an example two intents share makes the matcher guess; a
rule naming an intent nobody defined would never match. Each problem names its file,
line and, where there is one, the node.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from bot.core.model import BUILTIN_INTENTS, Node
from bot.core.textmatch import normalize
from bot.dialogs.parse import Built
from bot.errors import Problem

MIN_EXAMPLES = 3
MAX_LABEL = 64


def _key(example: str) -> str:
    """An example as the matcher cannot tell it apart: no case, accents, punctuation or
    spaces ("J'ai pas le temps !" and "jai pas le temps" are one example)."""
    return normalize(example).replace(" ", "")


def _uses(built: Built) -> Iterator[tuple[str, str, int, str | None]]:
    """(intent, file, line, node id) for every rule and button that names an intent."""
    for flow in built.flows.values():
        for rule in flow.on_text:
            for name in rule.intents:
                yield name, flow.file, rule.line, None
        for node in flow.nodes.values():
            yield from _node_uses(node, flow.file)


def _node_uses(node: Node, file: str) -> Iterator[tuple[str, str, int, str | None]]:
    for rule in node.on_text:
        for name in rule.intents:
            yield name, file, rule.line, node.id
    for button in node.buttons:
        for name in button.intents:
            yield name, file, button.line, node.id


def check_intents(built: Built, languages: Sequence[str], problems: list[Problem]) -> None:
    """Append every problem of the intents and of their uses."""
    source = built.intents_source
    uses = list(_uses(built))
    if source is None:
        for name, file, line, node in uses:
            problems.append(
                Problem(file, line, node,
                        f"intent '{name}' is used but there is no intents file "
                        "(a file with 'intents:', e.g. dialogs/intents.yaml)")
            )  # fmt: skip
        return
    if not source.valid:
        return
    owner: dict[tuple[str, str], str] = {}
    for intent in built.intents.values():
        for lang in languages:
            examples = intent.examples.get(lang, ())
            if not examples:
                problems.append(
                    Problem(source.path, intent.line, None,
                            f"intent '{intent.name}' has no example in {lang}: write at least "
                            f"{MIN_EXAMPLES} the way people type it")
                )  # fmt: skip
            elif len(examples) < MIN_EXAMPLES:
                problems.append(
                    Problem(source.path, intent.line, None,
                            f"intent '{intent.name}' has {len(examples)} example(s) in {lang}: "
                            f"write at least {MIN_EXAMPLES}")
                )  # fmt: skip
            for example in examples:
                first = owner.setdefault((lang, _key(example)), intent.name)
                if first != intent.name:
                    problems.append(
                        Problem(source.path, source.line("intents", intent.name, "examples", lang),
                                None,
                                f"example {example!r} ({lang}) is in both '{first}' and "
                                f"'{intent.name}': keep it in one of them")
                    )  # fmt: skip
            if len(intent.label.get(lang, "")) > MAX_LABEL:
                problems.append(
                    Problem(source.path, intent.line, None,
                            f"intent '{intent.name}': label.{lang} is longer than {MAX_LABEL} "
                            "characters (it is shown on a button)")
                )  # fmt: skip
    for name in BUILTIN_INTENTS:
        if name not in built.intents:
            problems.append(
                Problem(source.path, source.line("intents"), None,
                        f"missing built-in intent '{name}' (every node understands "
                        f"{', '.join(BUILTIN_INTENTS)})")
            )  # fmt: skip
    used = set()
    for name, file, line, node in uses:
        used.add(name)
        if name not in built.intents:
            problems.append(Problem(file, line, node, f"unknown intent '{name}'"))
    for intent in built.intents.values():
        if intent.name not in used and intent.name not in BUILTIN_INTENTS:
            problems.append(
                Problem(source.path, intent.line, None,
                        f"intent '{intent.name}' is used by no rule or button", "warning")
            )  # fmt: skip

"""Intents and phrases from the parsed YAML files, and the rules an intents file obeys.

No file is read here (the caller parses the YAML, with its own line tracking); the
functions take what `yaml.safe_load` returns and say in words what is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.understanding.matcher import Intent, UnderstandingError
from bot.understanding.text import normalize

NONE = "none"  # the expected intent of a phrase that must match nothing
MIN_EXAMPLES = 3  # examples each intent needs in every language


@dataclass(frozen=True, slots=True)
class Phrase:
    """A realistic text and the intent it must reach (`none`: no confident intent)."""

    text: str
    lang: str
    intent: str


@dataclass(frozen=True, slots=True)
class IntentProblem:
    """Something the checker reports about one intent in one language."""

    intent: str
    lang: str
    message: str

    def __str__(self) -> str:
        return f"intent {self.intent!r} ({self.lang}): {self.message}"


def check_intents(intents: Sequence[Intent], languages: Sequence[str]) -> tuple[IntentProblem, ...]:
    """Too few examples in a language, and examples two intents share: the same tokens once
    normalised ("Je ne sais pas" and "je sais pas"), which the matcher cannot tell apart."""
    problems = []
    for lang in languages:
        owner: dict[frozenset[str], tuple[str, str]] = {}
        for intent in intents:
            examples = intent.examples.get(lang, ())
            if len(examples) < MIN_EXAMPLES:
                problems.append(
                    IntentProblem(
                        intent.name, lang, f"{len(examples)} example(s), at least {MIN_EXAMPLES}"
                    )
                )
            for example in examples:
                tokens = frozenset(normalize(example, lang))
                if not tokens:
                    problems.append(IntentProblem(intent.name, lang, f"{example!r} has no words"))
                    continue
                first = owner.setdefault(tokens, (intent.name, example))
                if first[0] != intent.name:
                    problems.append(
                        IntentProblem(
                            intent.name,
                            lang,
                            f"{example!r} is also an example of {first[0]!r} ({first[1]!r})",
                        )
                    )
    return tuple(problems)


def _texts(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UnderstandingError(f"{where}: expected a list of sentences")
    return tuple(value)


def _name(value: object, where: str) -> str:
    if isinstance(value, bool):  # YAML 1.1 reads unquoted yes/no as true/false
        raise UnderstandingError(f'{where}: {value!r} is not a name: quote "yes" and "no"')
    return str(value)


def intents_from(data: object, languages: Sequence[str]) -> tuple[Intent, ...]:
    """Intents from the parsed `intents.yaml` (`{intents: {name: {examples: {lang: [...]}}}}`)."""
    table = data.get("intents") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise UnderstandingError("intents file: expected a mapping 'intents:'")
    intents = []
    for name, body in table.items():
        examples = body.get("examples") if isinstance(body, dict) else None
        if not isinstance(examples, dict):
            raise UnderstandingError(f"intent {name!r}: expected 'examples:' per language")
        intents.append(
            Intent(
                _name(name, "intents file"),
                {
                    lang: _texts(examples.get(lang, []), f"intent {name!r} ({lang})")
                    for lang in languages
                },
            )
        )
    return tuple(intents)


def phrases_from(data: object) -> tuple[Phrase, ...]:
    """Phrases from the parsed phrase file (`{phrases: {lang: [{text, intent}, ...]}}`)."""
    table = data.get("phrases") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise UnderstandingError("phrase file: expected a mapping 'phrases:'")
    phrases = []
    for lang, items in table.items():
        if not isinstance(items, list):
            raise UnderstandingError(f"phrases ({lang}): expected a list")
        for number, item in enumerate(items, 1):
            if not (isinstance(item, dict) and isinstance(item.get("text"), str)):
                raise UnderstandingError(f"phrases ({lang}) #{number}: expected {{text, intent}}")
            intent = _name(item.get("intent"), f"phrases ({lang}) #{number}")
            phrases.append(Phrase(item["text"], str(lang), intent))
    return tuple(phrases)

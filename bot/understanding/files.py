"""Phrases from the parsed phrase file. (The intents themselves are read, with their
lines, and checked by the dialog loader: `bot/dialogs/parse.py`, `intent_checks.py`.)

No file is read here: the function takes what the YAML parser returns and says in words
what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.understanding.matcher import UnderstandingError

NONE = "none"  # the expected intent of a phrase that must match nothing


@dataclass(frozen=True, slots=True)
class Phrase:
    """A realistic text and the intent it must reach (`none`: no confident intent)."""

    text: str
    lang: str
    intent: str


def _name(value: object, where: str) -> str:
    if isinstance(value, bool):  # YAML 1.1 reads unquoted yes/no as true/false
        raise UnderstandingError(f'{where}: {value!r} is not a name: quote "yes" and "no"')
    return str(value)


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

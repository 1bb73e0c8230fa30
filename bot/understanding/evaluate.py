"""How well a matcher understands a phrase file: the phrases (read from the parsed file),
accuracy per language and per intent, and what was taken for what. `vie-coach check`
prints it and fails under 90 %."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.understanding.matcher import Guess, UnderstandingError

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


class Understands(Protocol):
    """Anything that says which intent a text means (a `Matcher`, or a fake in tests)."""

    @property
    def names(self) -> tuple[str, ...]: ...

    def best(self, text: str, lang: str) -> Guess | None: ...


@dataclass(frozen=True, slots=True)
class Score:
    """Correct answers out of a number of phrases."""

    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 1.0


@dataclass(frozen=True, slots=True)
class Confusion:
    """Phrases of one language expecting `expected` that got `got` (`none`: no answer)."""

    lang: str
    expected: str
    got: str
    count: int
    texts: tuple[str, ...]  # the phrases themselves, so that operators see what to add


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of a phrase file."""

    languages: Mapping[str, Score]
    intents: Mapping[tuple[str, str], Score]  # (lang, intent) -> score
    confusions: tuple[Confusion, ...]  # most frequent first
    unknown: tuple[str, ...]  # intents phrases expect that the matcher does not have

    def failing(self, target: float) -> tuple[str, ...]:
        """The languages whose accuracy is under `target` (0..1)."""
        return tuple(lang for lang, s in self.languages.items() if s.accuracy < target)

    def lines(self, confusions: int = 20) -> list[str]:
        """A plain report for a terminal: accuracy per language, weakest intents, confusions."""
        out = [
            f"{lang}: {s.accuracy:6.1%} ({s.correct}/{s.total})"
            for lang, s in self.languages.items()
        ]
        if self.unknown:
            out.append(f"  phrases expect intents that do not exist: {', '.join(self.unknown)}")
        weak = sorted(
            (s.accuracy, lang, name, s)
            for (lang, name), s in self.intents.items()
            if s.correct < s.total
        )
        out += [f"  {lang} {name}: {s.correct}/{s.total}" for _, lang, name, s in weak]
        for c in self.confusions[:confusions]:
            sample = "; ".join(repr(t) for t in c.texts[:3])
            out.append(f"  {c.lang} {c.expected} -> {c.got} x{c.count}: {sample}")
        return out


def evaluate(matcher: Understands, phrases: Iterable[Phrase]) -> Report:
    """Run every phrase through `matcher.best` and count what it got right."""
    per_lang: Counter[str] = Counter()
    right_lang: Counter[str] = Counter()
    per_intent: Counter[tuple[str, str]] = Counter()
    right_intent: Counter[tuple[str, str]] = Counter()
    wrong: dict[tuple[str, str, str], list[str]] = {}
    for phrase in phrases:
        guess = matcher.best(phrase.text, phrase.lang)
        got = NONE if guess is None else guess.intent
        key = (phrase.lang, phrase.intent)
        per_lang[phrase.lang] += 1
        per_intent[key] += 1
        if got == phrase.intent:
            right_lang[phrase.lang] += 1
            right_intent[key] += 1
        else:
            wrong.setdefault((phrase.lang, phrase.intent, got), []).append(phrase.text)
    confusions = sorted(
        (
            Confusion(lang, exp, got, len(texts), tuple(texts))
            for (lang, exp, got), texts in wrong.items()
        ),
        key=lambda c: (-c.count, c.lang, c.expected, c.got),
    )
    known = {*matcher.names, NONE}
    return Report(
        {lang: Score(right_lang[lang], n) for lang, n in per_lang.items()},
        {key: Score(right_intent[key], n) for key, n in sorted(per_intent.items())},
        tuple(confusions),
        tuple(sorted({intent for _, intent in per_intent} - known)),
    )

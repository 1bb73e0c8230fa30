"""What the matcher knows about one language, built once: weighted features of every
example, and of every intent taken as one bag of words.

A feature is a token (`normalize`) or, for a content word, one of its letter 4-grams
("<inst", "inst", "nsta"…), which lets "inscription" meet "inscrit" and "escroquer" meet
"escroc". A feature's weight is its inverse intent frequency: "temps" tells more than "je";
function words never weigh more than a fixed cap, whatever their frequency in a small set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.understanding.text import NEG, function_tokens, normalize
from bot.understanding.typos import Speller

GRAM = 4  # letters in a sub-word feature
GRAM_SHARE = 0.3  # weight of a 4-gram relative to a whole word of the same rarity
FUNCTION = 0.3  # cap of a function word's weight, relative to the rarest word's
UNKNOWN = 0.75  # weight of a word no example uses, relative to the rarest word's
ELIDED = {"qu": "que", "j": "je", "l": "le", "d": "de", "m": "me", "t": "te", "s": "se", "c": "ce"}


def negative(tokens: Sequence[str] | frozenset[str]) -> bool:
    """True when the tokens carry a negation ("¬" or a negated word)."""
    return any(t.startswith(NEG) for t in tokens)


@dataclass(frozen=True, slots=True)
class Example:
    """One example sentence, as features."""

    intent: int  # index into the matcher's intent names
    features: frozenset[str]
    weight: float  # the sum of its features' weights
    negative: bool


@dataclass(frozen=True, slots=True)
class Language:
    """The index of one language."""

    lang: str
    examples: tuple[Example, ...]
    postings: Mapping[str, tuple[int, ...]]  # feature -> examples holding it
    bags: Mapping[str, tuple[tuple[int, float], ...]]  # feature -> (intent, its bag value)
    bag_norms: Mapping[int, float]  # intent -> length of its bag vector
    weights: Mapping[str, float]
    function: frozenset[str]  # function-word tokens of the language
    cap: float  # weight of a function word
    unknown: float  # weight of a word no example holds
    gram_unknown: float  # weight of a 4-gram no example holds
    speller: Speller
    stems: frozenset[str]  # known tokens without their negation mark

    def weight(self, feature: str) -> float:
        """The weight of any feature, known or not."""
        known = self.weights.get(feature)
        if known is not None:
            return known
        if feature in self.function:
            return self.cap
        return self.gram_unknown if feature[0] == "#" else self.unknown

    def features(self, tokens: frozenset[str]) -> frozenset[str]:
        """Tokens plus the 4-grams of content words."""
        return _features(tokens, self.function)

    def repair(self, token: str) -> tuple[str, ...]:
        """`token`, or the known token a typo or a dropped apostrophe made it miss."""
        if token in self.weights or token in self.function:
            return (token,)
        mark = NEG if token.startswith(NEG) and token != NEG else ""
        stem = token[len(mark) :]
        if self.lang == "fr":  # "jhesite", "laide": an apostrophe left out
            for elided, word in ELIDED.items():
                rest = stem[len(elided) :]
                if stem.startswith(elided) and len(rest) > 2 and rest in self.stems:
                    return (word, mark + rest)
        corrected = self.speller.correct(stem)
        return (token,) if corrected is None else (mark + corrected,)


def _features(tokens: frozenset[str], function: frozenset[str]) -> frozenset[str]:
    found = set(tokens)
    for token in tokens:
        if token in function or len(token) < GRAM:
            continue
        padded = f"<{token}>"
        found.update("#" + padded[i : i + GRAM] for i in range(len(padded) - GRAM + 1))
    return frozenset(found)


def build(examples: Sequence[tuple[str, ...]], lang: str) -> Language:
    """The index of `lang`; `examples[i]` are the example sentences of intent `i`."""
    function = function_tokens(lang)
    sentences: list[tuple[int, frozenset[str], bool]] = []
    holders: dict[str, set[int]] = {}
    stems: dict[str, int] = {}
    for intent, texts in enumerate(examples):
        for text in texts:
            tokens = frozenset(normalize(text, lang))
            if not tokens:
                continue
            features = _features(tokens, function)
            sentences.append((intent, features, negative(tokens)))
            for feature in features:
                holders.setdefault(feature, set()).add(intent)
            for token in tokens:
                stem = token.removeprefix(NEG)
                stems[stem] = stems.get(stem, 0) + 1
    rarest = math.log(1 + max(1, len(examples)))
    weights = {f: math.log(1 + len(examples) / len(owners)) for f, owners in holders.items()}
    cap = FUNCTION * rarest
    for feature, weight in weights.items():
        if feature[0] == "#":
            weights[feature] = weight * GRAM_SHARE
        elif feature in function:
            weights[feature] = min(weight, cap)
    built = tuple(
        Example(intent, features, sum(weights[f] for f in features), neg)
        for intent, features, neg in sentences
    )
    postings: dict[str, list[int]] = {}
    for number, example in enumerate(built):
        for feature in example.features:
            postings.setdefault(feature, []).append(number)
    bags, norms = _bags(built, weights)
    return Language(
        lang=lang,
        examples=built,
        postings={f: tuple(numbers) for f, numbers in postings.items()},
        bags=bags,
        bag_norms=norms,
        weights=weights,
        function=function,
        cap=cap,
        unknown=UNKNOWN * rarest,
        gram_unknown=UNKNOWN * rarest * GRAM_SHARE,
        speller=Speller.of(stems, stems),
        stems=frozenset(stems),
    )


def _bags(
    examples: Sequence[Example], weights: Mapping[str, float]
) -> tuple[dict[str, tuple[tuple[int, float], ...]], dict[int, float]]:
    """Each intent as one vector: a feature's weight times the share of its examples
    that hold it (a word in every example of an intent is typical of it)."""
    counts: dict[int, dict[str, int]] = {}
    sizes: dict[int, int] = {}
    for example in examples:
        sizes[example.intent] = sizes.get(example.intent, 0) + 1
        held = counts.setdefault(example.intent, {})
        for feature in example.features:
            held[feature] = held.get(feature, 0) + 1
    bags: dict[str, list[tuple[int, float]]] = {}
    norms: dict[int, float] = {}
    for intent, held in counts.items():
        squares = 0.0
        for feature, count in held.items():
            value = weights[feature] * count / sizes[intent]
            bags.setdefault(feature, []).append((intent, value))
            squares += value * value
        norms[intent] = math.sqrt(squares)
    return {f: tuple(values) for f, values in bags.items()}, norms

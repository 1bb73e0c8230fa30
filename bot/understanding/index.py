"""What the matcher knows about one language, built once: weighted features of every
example, and of every intent taken as one bag of words.

A feature is a token (`normalize`) or, for a content word, one of its letter 4-grams
("<inst", "inst", "nsta"…), which lets "inscription" meet "inscrit" and "escroquer" meet
"escroc". A feature's weight is its inverse intent frequency: "temps" tells more than "je";
function words never weigh more than a fixed cap, whatever their frequency in a small set.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.understanding.text import NEG, function_tokens, normalize
from bot.understanding.typos import Speller

GRAM = 4  # letters in a sub-word feature
GRAM_SHARE = 0.3  # weight of a 4-gram relative to a whole word of the same rarity
FUNCTION = 0.3  # cap of a function word's weight, relative to the rarest word's
LIGHT: frozenset[str] = frozenset()
UNKNOWN = 1.0  # weight of a word no example uses, relative to the rarest word's
ELIDED = {"qu": "que", "j": "je", "l": "le", "d": "de", "m": "me", "t": "te", "s": "se", "c": "ce"}


def negative(tokens: Sequence[str] | frozenset[str]) -> bool:
    """True when the tokens carry a negation ("¬" or a negated word)."""
    return any(t.startswith(NEG) for t in tokens)


@dataclass(frozen=True, slots=True)
class Example:
    """One example sentence, as features."""

    intent: int  # index into the matcher's intent names
    features: frozenset[str]  # content words and their 4-grams (looked up through postings)
    light: frozenset[str]  # function words and "¬": too common to look up, compared directly
    weight: float  # the sum of all its features' weights
    negative: bool


@dataclass(frozen=True, slots=True)
class Language:
    """The index of one language."""

    lang: str
    examples: tuple[Example, ...]
    postings: Mapping[str, Sequence[int]]  # content feature -> examples holding it
    bags: Mapping[str, Sequence[tuple[int, float]]]  # content feature -> (intent, bag value)
    bag_norms: Mapping[int, float]  # intent -> length of its bag vector
    bag_light: Sequence[Mapping[str, float]]  # intent -> its light features' bag values
    negative_share: Sequence[float]  # intent -> share of its examples that are negative
    weights: Mapping[str, float]
    function: frozenset[str]  # function-word tokens of the language
    light: frozenset[str]  # the function words and "¬"
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
    # a negated word's grams are negated too: "¬temp" shares nothing with "temp"
    grams = [
        f"#{mark}{padded[i : i + GRAM]}"
        for mark, padded in (
            (NEG, f"<{t[1:]}>") if t[0] == NEG else ("", f"<{t}>")
            for t in tokens
            if len(t) >= GRAM and t not in function
        )
        for i in range(len(padded) - GRAM + 1)
    ]
    return tokens.union(grams)


def build(examples: Sequence[tuple[str, ...]], lang: str) -> Language:
    """The index of `lang`; `examples[i]` are the example sentences of intent `i`."""
    function = function_tokens(lang)
    sentences: list[tuple[int, frozenset[str], bool]] = []
    bags = [Counter[str]() for _ in examples]
    sizes = [0] * len(examples)
    negatives = [0] * len(examples)
    stems: Counter[str] = Counter()
    holders: Counter[str] = Counter()
    for intent, texts in enumerate(examples):
        held: set[str] = set()
        for text in texts:
            tokens = frozenset(normalize(text, lang))
            if not tokens:
                continue
            features = _features(tokens, function)
            neg = negative(tokens)
            sentences.append((intent, features, neg))
            bags[intent].update(features)
            sizes[intent] += 1
            negatives[intent] += neg
            held.update(features)
            stems.update(token.removeprefix(NEG) for token in tokens)
        holders.update(held)
    count = max(1, len(examples))
    rarest = math.log(1 + count)
    cap = FUNCTION * rarest
    weights = {f: math.log(1 + count / n) for f, n in holders.items()}
    for feature, weight in weights.items():
        if feature[0] == "#":
            weights[feature] = weight * GRAM_SHARE
        elif feature in function:
            weights[feature] = min(weight, cap)
    light = LIGHT
    weigh = weights.__getitem__
    built = tuple(
        Example(intent, features - light, features & light, sum(map(weigh, features)), neg)
        for intent, features, neg in sentences
    )
    postings: defaultdict[str, list[int]] = defaultdict(list)
    for number, example in enumerate(built):
        for feature in example.features:
            postings[feature].append(number)
    vectors: defaultdict[str, list[tuple[int, float]]] = defaultdict(list)
    norms: dict[int, float] = {}
    lights: list[dict[str, float]] = []
    for intent, (bag, size) in enumerate(zip(bags, sizes, strict=True)):
        # a feature in every example of an intent is typical of it: weight x share
        values = [(f, weights[f] * n / size) for f, n in bag.items()]
        for feature, value in values:
            if feature not in light:
                vectors[feature].append((intent, value))
        lights.append({f: v for f, v in values if f in light})
        norms[intent] = math.sqrt(sum([v * v for _, v in values]))
    return Language(
        lang=lang,
        examples=built,
        postings=postings,
        bags=vectors,
        bag_norms=norms,
        bag_light=lights,
        negative_share=tuple(n / max(1, size) for n, size in zip(negatives, sizes, strict=True)),
        weights=weights,
        function=function,
        light=light,
        cap=cap,
        unknown=UNKNOWN * rarest,
        gram_unknown=UNKNOWN * rarest * GRAM_SHARE,
        speller=Speller.of(stems, stems),
        stems=frozenset(stems),
    )

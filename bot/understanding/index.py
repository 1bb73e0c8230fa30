"""What the matcher knows about one language, built once: the weighted features of every
example, and the length of every intent's bag of words.

A feature is a token (`normalize`) or, for a content word, one of its letter 4-grams
("<inst", "inst", "nsta"…), which lets "inscription" meet "inscrit" and "escroquer" meet
"escroc"; a negated word's grams are negated too. A feature's weight is its inverse intent
frequency: "temps" tells more than "je"; function words never weigh more than a fixed cap,
whatever their frequency in a small set.
"""

from __future__ import annotations

import functools
import math
import operator
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.understanding.text import NEG, function_tokens, normalize
from bot.understanding.typos import Speller

GRAM = 4  # letters in a sub-word feature
GRAM_SHARE = 0.3  # weight of a 4-gram relative to a whole word of the same rarity
FUNCTION = 0.3  # cap of a function word's weight, relative to the rarest word's
UNKNOWN = 1.0  # weight of a word no example uses, relative to the rarest word's
ELIDED = {"qu": "que", "j": "je", "l": "le", "d": "de", "m": "me", "t": "te", "s": "se", "c": "ce"}


def negative(tokens: Iterable[str]) -> bool:
    """True when the tokens carry a negation ("¬" or a negated word)."""
    return any(t.startswith(NEG) for t in tokens)


@dataclass(frozen=True, slots=True)
class Example:
    """One example sentence, as features."""

    intent: int  # index into the matcher's intent names
    function: frozenset[str]  # its function words: compared directly, not looked up
    weight: float  # the sum of all its features' weights
    negative: bool


@dataclass(frozen=True, slots=True)
class Language:
    """The index of one language."""

    lang: str
    examples: tuple[Example, ...]
    postings: Mapping[str, Sequence[int]]  # feature (not a function word) -> its examples
    sizes: Sequence[int]  # intent -> number of its examples
    bag_norms: Sequence[float]  # intent -> length of its bag vector (see `Matcher`)
    negative_share: Sequence[float]  # intent -> share of its examples that are negative
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
        if stem in self.stems:  # a known word, only never negated: no typo to correct
            return (token,)
        if self.lang == "fr":  # "jhesite", "laide": an apostrophe left out
            for elided, word in ELIDED.items():
                rest = stem[len(elided) :]
                if stem.startswith(elided) and len(rest) > 2 and rest in self.stems:
                    return (word, mark + rest)
        corrected = self.speller.correct(stem)
        return (token,) if corrected is None else (mark + corrected,)


@functools.lru_cache(maxsize=1 << 15)
def _grams(token: str) -> tuple[str, ...]:
    """The letter 4-grams of a token; a negated word's grams are negated too ("¬temp"
    shares nothing with "temp")."""
    mark, word = (NEG, token[1:]) if token[0] == NEG else ("", token)
    padded = f"<{word}>"
    return tuple(f"#{mark}{padded[i : i + GRAM]}" for i in range(len(padded) - GRAM + 1))


def _features(tokens: frozenset[str], function: frozenset[str]) -> frozenset[str]:
    return tokens.union(*[_grams(t) for t in tokens if len(t) >= GRAM and t not in function])


def build(examples: Sequence[tuple[str, ...]], lang: str) -> Language:
    """The index of `lang`; `examples[i]` are the example sentences of intent `i`."""
    function = function_tokens(lang)
    sentences: list[tuple[int, frozenset[str], bool]] = []
    bags = [Counter[str]() for _ in examples]  # intent -> feature -> examples holding it
    sizes = [0] * len(examples)
    negatives = [0] * len(examples)
    stems: Counter[str] = Counter()
    holders: Counter[str] = Counter()  # feature -> intents holding it
    for intent, texts in enumerate(examples):
        for text in texts:
            tokens = frozenset(normalize(text, lang))
            if tokens:
                features = _features(tokens, function)
                sentences.append((intent, features, negative(tokens)))
                bags[intent].update(features)
                sizes[intent] += 1
                negatives[intent] += sentences[-1][2]
                stems.update(token.removeprefix(NEG) for token in tokens)
        holders.update(bags[intent].keys())
    count = max(1, len(examples))
    rarest = math.log(1 + count)
    cap = FUNCTION * rarest
    weights = {f: math.log(1 + count / n) for f, n in holders.items()}
    for feature, weight in weights.items():
        if feature[0] == "#":
            weights[feature] = weight * GRAM_SHARE
        elif feature in function:
            weights[feature] = min(weight, cap)
    weigh = weights.__getitem__
    built = []
    postings: defaultdict[str, list[int]] = defaultdict(list)
    for number, (intent, features, neg) in enumerate(sentences):
        built.append(Example(intent, features & function, sum(map(weigh, features)), neg))
        for feature in features - function:
            postings[feature].append(number)
    norms = [
        # the bag: each feature's weight times the share of the intent's examples holding it
        math.hypot(*map(operator.mul, map(weigh, bag.keys()), bag.values())) / max(1, size)
        for bag, size in zip(bags, sizes, strict=True)
    ]
    return Language(
        lang=lang,
        examples=tuple(built),
        postings=postings,
        sizes=sizes,
        bag_norms=norms,
        negative_share=[n / max(1, size) for n, size in zip(negatives, sizes, strict=True)],
        weights=weights,
        function=function,
        cap=cap,
        unknown=UNKNOWN * rarest,
        gram_unknown=UNKNOWN * rarest * GRAM_SHARE,
        speller=Speller.of(stems, stems),
        stems=frozenset(stems),
    )

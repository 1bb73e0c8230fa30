"""Which intent a text means, from the examples operators wrote.

An intent's score blends two views of the same weighted features (see `index`):
- the nearest example: how much of the example the text holds and how much of the text the
  example explains (a weighted geometric mean of both coverages), so that a short example
  inside a long sentence still counts;
- the intent as one bag of words (cosine), which pools the evidence of all its examples.
Both come from one pass over the examples that share a content word with the text. A text
and an example that disagree on negation keep only part of the example's score.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from bot.errors import VieError
from bot.understanding.index import Language, build, negative
from bot.understanding.labels import label_index
from bot.understanding.text import NEG, normalize

EXAMPLE_SHARE = 0.4  # exponent of "the example is in the text" (the rest: "the text is it")
BAG_SHARE = 0.6  # share of the bag-of-words view in an intent's score
POLARITY = 0.5  # what is left of an example's score when it disagrees with the text on negation
SHORT_POLARITY = 0.1  # the same for a short text, where the negation is most of the meaning
SHORT = 1  # content words in a short text ("je sais" is not "je sais pas")
THRESHOLD = 0.18  # `best` answers from this score up (chosen on the phrase file)
SURE = 0.4  # under this score a text whose words are mostly unknown is tried in other languages
OTHER_LANGUAGE = 0.95  # a guess from another language than the person's must be clearer
MAX_TOKENS = 64  # distinct tokens read in one text: bounds the work on a long message


class UnderstandingError(VieError):
    """The intents or a call cannot be used as given; the message names what is wrong."""


@dataclass(frozen=True, slots=True)
class Intent:
    """A meaning, given by a few example sentences per language."""

    name: str
    examples: Mapping[str, tuple[str, ...]]  # lang -> example sentences


@dataclass(frozen=True, slots=True)
class Guess:
    """An intent and how sure the matcher is of it (0..1, comparable across texts)."""

    intent: str
    score: float


class Matcher:
    """Intents recognised in free text, in each configured language. Immutable once built."""

    def __init__(self, intents: Sequence[Intent], languages: Sequence[str]) -> None:
        names = [intent.name for intent in intents]
        doubled = sorted(name for name, n in Counter(names).items() if n > 1)
        if doubled:
            raise UnderstandingError(f"intents defined twice: {', '.join(doubled)}")
        self.names: tuple[str, ...] = tuple(names)
        self.languages: tuple[str, ...] = tuple(languages)
        self._numbers = {name: number for number, name in enumerate(names)}
        self._index = {
            lang: build([i.examples.get(lang, ()) for i in intents], lang)
            for lang in self.languages
        }
        # An example typed word for word means its intent, whatever the other intents'
        # words ("non merci" is a "no", though "merci" alone is a "thanks").
        self._exact: dict[str, dict[frozenset[str], int]] = {}
        for lang in self.languages:
            said: dict[frozenset[str], int] = {}
            for number, intent in enumerate(intents):
                for example in intent.examples.get(lang, ()):
                    said.setdefault(frozenset(normalize(example, lang)), number)
            self._exact[lang] = said

    def tokens(self, text: str, lang: str) -> frozenset[str]:
        """The tokens of `text` as the matcher reads them: typos corrected to known words."""
        known = self._language(lang)
        read: set[str] = set()
        for token in normalize(text, lang):
            if len(read) >= MAX_TOKENS:
                break
            read.update(known.repair(token))
        return frozenset(read)

    def rank(
        self, text: str, lang: str, among: Collection[str] | None = None, limit: int = 3
    ) -> tuple[Guess, ...]:
        """The `limit` likeliest intents, best first; `among` restricts the names."""
        scores = self._all_scores(text, lang, among)
        ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return tuple(Guess(self.names[i], round(s, 4)) for i, s in ordered[:limit] if s > 0)

    def scores(self, text: str, lang: str) -> dict[str, float]:
        """Every intent's score for `text` (those above zero), unsorted: cheaper than a
        full `rank` when the caller looks for the best among several sets of names."""
        return {self.names[i]: s for i, s in self._all_scores(text, lang, None).items() if s > 0}

    def _all_scores(self, text: str, lang: str, among: Collection[str] | None) -> dict[int, float]:
        wanted = None if among is None else {self._numbers[n] for n in among if n in self._numbers}
        tokens = self.tokens(text, lang)
        scores = self._scores(tokens, self._language(lang), wanted)
        exact = self._exact[lang].get(frozenset(normalize(text, lang)))
        if exact is not None and (wanted is None or exact in wanted):
            scores[exact] = 1.0
        top = max(scores.values(), default=0.0)
        if top < THRESHOLD or (top < SURE and self._foreign(tokens, lang)):
            # the language may be set wrong (an English speaker left on French): the
            # person's own language first, another one only when it is clearer
            for other in self.languages:
                if other != lang:
                    theirs = self._scores(self.tokens(text, other), self._index[other], wanted)
                    for intent, score in theirs.items():
                        scores[intent] = max(scores.get(intent, 0.0), score * OTHER_LANGUAGE)
        return scores

    def best(self, text: str, lang: str, among: Collection[str] | None = None) -> Guess | None:
        """The top guess when it is confident enough to act on, else None."""
        guesses = self.rank(text, lang, among, limit=1)
        return guesses[0] if guesses and guesses[0].score >= THRESHOLD else None

    def label(self, text: str, labels: Sequence[str], lang: str) -> int | None:
        """The index of the button label the person typed (typos allowed), else None."""
        return label_index(text, labels, lang)

    def _language(self, lang: str) -> Language:
        known = self._index.get(lang)
        if known is None:
            raise UnderstandingError(f"language {lang!r} is not one of {list(self.languages)}")
        return known

    def _foreign(self, tokens: frozenset[str], lang: str) -> bool:
        """Whether most words of the text are unknown in `lang`: maybe another language."""
        known = self._index[lang].weights
        words = [t for t in tokens if t != NEG]
        return sum(1 for t in words if t in known) * 2 < len(words)

    def _scores(
        self, tokens: frozenset[str], known: Language, wanted: set[int] | None
    ) -> dict[int, float]:
        features = known.features(tokens)
        weights = {f: known.weight(f) for f in features}
        text_weight = sum(weights.values())
        text_norm = math.sqrt(sum([w * w for w in weights.values()]))
        # what the text shares with each example, as a sum of weights and of their squares
        # (the squares make the bag's dot product); function words are left to the end:
        # they are in most examples, and an example sharing nothing else is no candidate
        function = features & known.function
        shared: dict[int, float] = {}
        squares: dict[int, float] = {}
        for feature in features - function:
            weight = weights[feature]
            square = weight * weight
            for number in known.postings.get(feature, ()):
                shared[number] = shared.get(number, 0.0) + weight
                squares[number] = squares.get(number, 0.0) + square
        polarity = negative(tokens)
        words = sum(1 for t in tokens if t not in known.function and t != NEG)
        disagree = SHORT_POLARITY if words <= SHORT else POLARITY
        nearest: dict[int, float] = {}
        dots: dict[int, float] = {}
        for number, overlap in shared.items():
            example = known.examples[number]
            if wanted is not None and example.intent not in wanted:
                continue
            square = squares[number]
            for feature in example.function & function:
                overlap += weights[feature]
                square += weights[feature] ** 2
            score = (overlap / example.weight) ** EXAMPLE_SHARE * (overlap / text_weight) ** (
                1 - EXAMPLE_SHARE
            )
            if example.negative != polarity:
                score *= disagree
            if score > nearest.get(example.intent, 0.0):
                nearest[example.intent] = score
            dots[example.intent] = dots.get(example.intent, 0.0) + square
        scores = {}
        for intent, dot in dots.items():
            # the bag (all examples of the intent as one vector, a feature weighing its weight
            # times the share of examples holding it) pools both polarities: it counts as
            # far as its examples agree with the text
            cosine = dot / (known.sizes[intent] * known.bag_norms[intent] * text_norm)
            share = known.negative_share[intent]
            agree = share if polarity else 1 - share
            pooled = cosine * (agree + (1 - agree) * disagree)
            scores[intent] = (1 - BAG_SHARE) * nearest.get(intent, 0.0) + BAG_SHARE * pooled
        return scores

"""Which button a person typed instead of pressing it: "cest fait" for "✅ C'est fait".

Two views, the better one wins: the words (as `normalize` reads them, each allowed a typo
or two, weighted by how few labels share them), and the letters of the whole label (for
"cestfait" or "plustard", where words ran together). A label and a text that disagree on
negation never match ("pas fait" is not "C'est fait"). A label that starts with a short
key and a dash ("E — Installer, apprendre") is also typed as its key alone: "e".
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.understanding.index import negative
from bot.understanding.text import NEG, fold, function_tokens, normalize
from bot.understanding.typos import distance

ACCEPT = 0.7  # a label is taken from this score up...
MARGIN = 0.1  # ...and only when no other label comes this close
MAX_TEXT = 120  # a text this long is a message, not a typed button
FUNCTION = 0.25  # weight of a function word ("je", "le", "ou"): "plus tard" is the label
# "V — Partager", "2 - Réagir": a key of one to three letters or digits, then a dash
_KEY = re.compile(r"\s*(\w{1,3})\s+[—–-]\s+\S")


def _plain(text: str) -> str:
    """The label without emoji and symbols, which nobody types."""
    return "".join(c for c in text if not unicodedata.category(c).startswith(("S", "C")))


def _letters(text: str) -> str:
    return "".join(c for c in fold(text) if c.isalnum())


def _same(a: str, b: str) -> bool:
    """Two tokens are the same word, allowing a typo in words of 4 letters or more."""
    if a == b:
        return True
    if a.startswith(NEG) != b.startswith(NEG) or min(len(a), len(b)) < 4:
        return False
    allowed = 2 if min(len(a), len(b)) >= 8 else 1
    if abs(len(a) - len(b)) > allowed:
        return False
    return distance(a, b, allowed) <= allowed


def _word_score(text: frozenset[str], label: frozenset[str], weights: dict[str, float]) -> float:
    def weight(token: str) -> float:
        return weights.get(token, 1.0)  # a word of the text no label has

    # each pair compared once (the typo distance is most of the cost of a typed text)
    label_hits: set[str] = set()
    text_hits: set[str] = set()
    for t in label:
        for u in text:
            if _same(t, u):
                label_hits.add(t)
                text_hits.add(u)
    found = sum(weight(t) for t in label_hits)
    if not found:
        return 0.0
    explained = sum(weight(u) for u in text_hits)
    total_label = sum(weight(t) for t in label)
    total_text = sum(weight(u) for u in text)
    return math.sqrt((found / total_label) * (explained / total_text))


def _letter_score(text: str, label: str) -> float:
    if not text or not label or abs(len(text) - len(label)) > len(label) // 3:
        return 0.0
    bound = max(1, len(label) // 4)
    edits = distance(text, label, bound)
    return 0.0 if edits > bound else 1 - edits / max(len(text), len(label))


@dataclass(frozen=True, slots=True)
class _Labels:
    """A node's labels as the comparison reads them: tokens, letters, word weights."""

    tokens: tuple[frozenset[str], ...]
    letters: tuple[str, ...]
    weights: dict[str, float]
    longest: int  # tokens in the longest label
    keys: dict[str, int]  # a key that starts exactly one label, and that label's index


@lru_cache(maxsize=4096)
def _prepared(labels: tuple[str, ...], lang: str) -> _Labels:
    """Computed once per set of labels: a dialog set has a few hundred, each shown often
    (a memo of a pure function; it measured as three quarters of the time of a typed text)."""
    plain = [_plain(label) for label in labels]
    tokens = tuple(frozenset(normalize(p, lang)) for p in plain)
    # a word in every label tells nothing about which one ("je" in "je bloque", "je le ferai")
    held: dict[str, int] = {}
    for label_tokens in tokens:
        for token in label_tokens:
            held[token] = held.get(token, 0) + 1
    function = function_tokens(lang)
    weights = {
        t: FUNCTION if t in function else math.log(1 + (len(labels) + 1) / n)
        for t, n in held.items()
    }
    longest = max((len(t) for t in tokens), default=0)
    starts = [_KEY.match(p) for p in plain]
    found = [fold(m.group(1)) if m else "" for m in starts]
    keys = {k: i for i, k in enumerate(found) if k and found.count(k) == 1}
    return _Labels(tokens, tuple(_letters(p) for p in plain), weights, longest, keys)


def label_index(text: str, labels: Sequence[str], lang: str) -> int | None:
    """The index of the label `text` stands for, or None when none clearly does."""
    if not labels or len(text) > MAX_TEXT:
        return None
    known = _prepared(tuple(labels), lang)
    letters = _letters(text)
    if letters in known.keys:  # "e" for "E — Installer, apprendre"
        return known.keys[letters]
    typed = frozenset(normalize(text, lang))
    if not typed:
        return None
    if len(typed) > 2 * known.longest + 2:
        return None  # a sentence, not a label typed: the intents will read it
    scores = []
    for label_tokens, label_letters in zip(known.tokens, known.letters, strict=True):
        if not label_tokens or negative(label_tokens) != negative(typed):
            scores.append(0.0)
            continue
        words = _word_score(typed, label_tokens, known.weights)
        scores.append(max(words, _letter_score(letters, label_letters)))
    ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    top = ranked[0]
    runner_up = scores[ranked[1]] if len(ranked) > 1 else 0.0
    if scores[top] >= ACCEPT and scores[top] - runner_up >= MARGIN:
        return top
    return None

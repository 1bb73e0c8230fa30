"""Typo tolerance: a typed word the examples never use is replaced by the nearest one.

A symmetric-delete index (the idea behind SymSpell): every known word is filed under
itself and under each string made by deleting one of its letters (two for long words).
A typed word is looked up the same way, so a missing, extra, wrong or swapped letter
finds its word in a few dictionary hits, whatever the size of the vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MIN_LENGTH = 5  # shorter words are too easily another word ("pas", "par", "pis")
LONG = 8  # from this length two typos are tolerated


def _deletes(word: str, depth: int) -> set[str]:
    """The strings made by deleting up to `depth` letters of `word`."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def _allowed(word: str) -> int:
    return 2 if len(word) >= LONG else 1


def distance(a: str, b: str, bound: int) -> int:
    """Edit distance where swapping two neighbours counts one (optimal string alignment),
    or `bound + 1` as soon as it is known to exceed `bound`."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, before[j - 2] + 1)
            current[j] = best
        if min(current) > bound:
            return bound + 1
        before, previous = previous, current
    return previous[-1]


@dataclass(frozen=True, slots=True)
class Speller:
    """Known words, filed for typo look-ups; `frequency` breaks ties between candidates."""

    keys: Mapping[str, tuple[str, ...]]
    frequency: Mapping[str, int]

    @classmethod
    def of(cls, words: Iterable[str], frequency: Mapping[str, int]) -> Speller:
        filed: dict[str, set[str]] = {}
        for word in words:
            if len(word) < MIN_LENGTH or not word.isalpha():
                continue
            for key in _deletes(word, _allowed(word)):
                filed.setdefault(key, set()).add(word)
        keys = {key: tuple(sorted(words)) for key, words in filed.items()}
        return cls(keys, frequency)

    def correct(self, word: str) -> str | None:
        """The known word nearest to `word` (fewest edits, then most used), or None."""
        if len(word) < MIN_LENGTH or not word.isalpha():
            return None
        allowed = _allowed(word)
        candidates: set[str] = set()
        for key in _deletes(word, allowed):
            candidates.update(self.keys.get(key, ()))
        best: tuple[int, int, str] | None = None
        for candidate in candidates:
            if candidate[0] != word[0] and allowed == 1 and len(word) < 6:
                continue  # a short word typed with another first letter is another word
            edits = distance(word, candidate, min(allowed, _allowed(candidate)))
            if edits > min(allowed, _allowed(candidate)):
                continue
            rank = (edits, -self.frequency.get(candidate, 0), candidate)
            if best is None or rank < best:
                best = rank
        return None if best is None else best[2]

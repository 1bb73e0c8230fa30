"""Typo tolerance: a typed word the examples never use is replaced by the nearest one.

A symmetric-delete index (the idea behind SymSpell): every known word is filed under
itself and under each string made by deleting one of its letters. A typed word is looked
up the same way, so a missing, extra, wrong or swapped letter finds its word in a few
dictionary hits, whatever the size of the vocabulary. (More typos than one in a word are
left to the letter 4-grams of `index`.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

MIN_LENGTH = 6  # a shorter word one letter away is too often another word ("match", "march")
SWAP_LENGTH = 4  # from this length a swap or a doubled letter is recognised ("tmeps", "ocupe")


def _deletes(word: str) -> list[str]:
    """`word` and the strings made by deleting one of its letters."""
    return [word] + [word[:i] + word[i + 1 :] for i in range(len(word))]


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
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, before[j - 2] + 1)
            current[j] = best
        if min(current) > bound:
            return bound + 1
        before, previous = previous, current
    return previous[-1]


def _swapped(a: str, b: str) -> bool:
    """`a` is `b` with two letters in another order ("tmeps", "temps")."""
    return len(a) == len(b) and sorted(a) == sorted(b)


def _doubled(a: str, b: str) -> bool:
    """One of them is the other with a letter doubled ("ocupe", "occupe")."""
    short, long = sorted((a, b), key=len)
    if len(long) != len(short) + 1:
        return False
    return any(
        long[i] == long[i + 1] and long[:i] + long[i + 1 :] == short for i in range(len(long) - 1)
    )


@dataclass(frozen=True, slots=True)
class Speller:
    """Known words filed for typo look-ups; `frequency` breaks ties between candidates."""

    keys: Mapping[str, Sequence[str]]
    frequency: Mapping[str, int]

    @classmethod
    def of(cls, words: Iterable[str], frequency: Mapping[str, int]) -> Speller:
        filed: dict[str, list[str]] = {}
        for word in sorted(words):  # sorted: candidates come out in the same order every time
            if len(word) >= SWAP_LENGTH and word.isalpha():
                for key in _deletes(word):
                    filed.setdefault(key, []).append(word)
        return cls(filed, frequency)

    def correct(self, word: str) -> str | None:
        """The known word one typo away from `word` (the most used one), or None."""
        if len(word) < SWAP_LENGTH or not word.isalpha():
            return None
        candidates = {c for key in _deletes(word) for c in self.keys.get(key, ()) if c != word}
        if len(word) < MIN_LENGTH:  # short words: only a swap or a doubled letter
            candidates = {c for c in candidates if _swapped(word, c) or _doubled(word, c)}
        best: tuple[int, str] | None = None
        for candidate in candidates:
            if distance(word, candidate, 1) == 1:
                rank = (-self.frequency.get(candidate, 0), candidate)
                if best is None or rank < best:
                    best = rank
        return None if best is None else best[1]

"""Free-text matching: whole words, ignoring case, accents and punctuation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize(text: str) -> str:
    """`"Vie privée !"` -> `"vie privee"`: the form keywords and messages are compared in."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", stripped.casefold()).strip()


def matches(normalized_text: str, keywords: Iterable[str]) -> bool:
    """True when one (normalised) keyword or phrase stands as whole words in the text."""
    padded = f" {normalized_text} "
    return any(f" {kw} " in padded for kw in keywords if kw)

"""From what a person typed to the tokens the matcher compares.

`normalize("J'ai pas envie !", "fr")` -> `("je", "ai", "¬", "¬envi")`: case and accents
folded, apostrophes split, SMS spellings expanded, words stemmed (Snowball), and the words
a negation governs marked with `¬` so that "pas envie" and "envie" share nothing.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable

import Stemmer  # type: ignore[import-not-found]  # PyStemmer ships no type information

from bot.understanding.spelling import ENGLISH_CLITICS, ENGLISH_NT, Spelling, spelling

NEG = "¬"  # the token every negation adds; a negated word is NEG + its stem
MAX_CHARS = 600  # a long message is understood by its beginning: the work stays bounded
SCOPE = 2  # how many content words a negation governs ("pas le temps": "temps")

_WORD_OR_BREAK = re.compile(r"[^\W_]+|[.,;:!?()]")
_COMBINING = re.compile(r"[\u0300-\u036f]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d"})
_BREAKS = frozenset(".,;:!?()")
_VOWELS = frozenset("aeiouyh")


def fold(text: str) -> str:
    """Lower case, accents off, ligatures spelled out: `"Œuvre Été"` -> `"oeuvre ete"`."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    folded = unicodedata.normalize("NFKD", folded.translate(_LIGATURES))
    return _COMBINING.sub("", folded)


@functools.cache
def _stemmer(algorithm: str) -> Callable[[str], str]:
    # built once per language; stemming is a pure function of the word
    stem: Callable[[str], str] = Stemmer.Stemmer(algorithm).stemWord
    return stem


def _french_word(word: str) -> str:
    # without accents "installée" arrives as "installee", which Snowball would not
    # take back to "install" as it does "installé": drop the feminine e first
    if word.endswith("ees"):
        return word[:-2]
    if word.endswith("ee"):
        return word[:-1]
    return word


def _expand(raw: list[str], rules: Spelling, lang: str) -> list[str]:
    """Elisions, SMS spellings and contractions written out as plain words."""
    out: list[str] = []
    for i, token in enumerate(raw):
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if lang == "en" and out:
            if token == "t" and out[-1].endswith("n"):  # "don t" -> "do not"
                out[-1] = ENGLISH_NT.get(out[-1], out[-1][:-1])
                out.append("not")
                continue
            if token in ENGLISH_CLITICS:  # "i m" -> "i am"
                out.append(ENGLISH_CLITICS[token])
                continue
        if token == "c" and lang == "fr":  # "c'est" or the SMS "c" alone ("c koi")
            out.extend(("ce",) if nxt in ("est", "etait") else ("ce", "est"))
            continue
        if token in rules.elisions:
            out.append(rules.elisions[token])
            continue
        meant = rules.words.get(token)
        if meant is not None:
            out.extend(meant)
            continue
        if lang == "fr" and len(token) > 2 and token[0] == "j" and token[1] not in _VOWELS:
            # "jveux", "jpeux", "jcomprends": no French word starts with j + consonant
            rest = token[1:]
            out.append("je")
            out.extend(rules.words.get(rest, (rest,)))
            continue
        out.append(token)
    return out


@functools.cache
def function_tokens(lang: str) -> frozenset[str]:
    """The tokens function words become in `lang` ("est" -> "est", "the" -> "the")."""
    rules = spelling(lang)
    stem = _stemmer(rules.stemmer) if rules.stemmer else None
    return frozenset(stem(w) if stem else w for w in rules.function_words)


def normalize(text: str, lang: str) -> tuple[str, ...]:
    """The tokens of `text` in `lang`: folded, expanded, stemmed, negation marked."""
    rules = spelling(lang)
    text = text[:MAX_CHARS]
    for emoji, meant in rules.emoji.items():
        if emoji in text:
            text = text.replace(emoji, f" {' '.join(meant)} ")
    words = _expand(_WORD_OR_BREAK.findall(fold(text)), rules, lang)
    stem = _stemmer(rules.stemmer) if rules.stemmer else None
    tokens: list[str] = []
    scope = 0
    flagged = False  # a "ne" was seen in this clause: "plus" negates
    for word in words:
        if word in _BREAKS or word in rules.clause_breaks:
            scope, flagged = 0, False
            if word in _BREAKS:
                continue
        if word in rules.flag_negators or word in rules.negators:
            if word in rules.kept_negators:
                tokens.append(word)
            if word not in rules.answers:
                tokens.append(NEG)
            if word in rules.negators:
                scope = SCOPE
            flagged = True
            continue
        if flagged and word in rules.late_negators:
            tokens.append(NEG)
            scope = SCOPE
            continue
        function = word in rules.function_words
        if stem is not None:
            word = stem(_french_word(word) if lang == "fr" else word)
        if scope and not function:
            tokens.append(NEG + word)
            scope -= 1
        else:
            tokens.append(word)
    return tuple(tokens)

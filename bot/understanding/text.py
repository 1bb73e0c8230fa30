"""From what a person typed to the tokens the matcher compares.

`normalize("J'ai pas envie !", "fr")` -> `("je", "ai", "¬", "¬envi")`: case and accents
folded, apostrophes split, SMS spellings expanded, words stemmed (Snowball), and the words
a negation governs marked with `¬` so that "pas envie" and "envie" share nothing.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping

import Stemmer  # type: ignore[import-not-found]  # PyStemmer ships no type information

from bot.understanding.spelling import Spelling, spelling

NEG = "¬"  # the token every negation adds; a negated word is NEG + its stem
MAX_CHARS = 600  # a long message is understood by its beginning: the work stays bounded
SCOPE = 2  # content words a negation governs ("pas le temps": "temps")

_WORD_OR_BREAK = re.compile(r"[^\W_]+|[.,;:!?()]")
_COMBINING = re.compile(r"[\u0300-\u036f]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d"})
_VOWELS = frozenset("aeiouyh")

# what a word does in a sentence, when it does more than mean something
_BREAK, _NEGATOR, _FLAG, _LATE, _KEPT, _ANSWER, _FUNCTION = (1 << n for n in range(7))


def fold(text: str) -> str:
    """Lower case, accents off, ligatures spelled out: `"Œuvre Été"` -> `"oeuvre ete"`."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    folded = unicodedata.normalize("NFKD", folded.translate(_LIGATURES))
    return _COMBINING.sub("", folded)


@functools.cache
def _stemmer(lang: str) -> Callable[[str], str]:
    """The stemming function of `lang` (built once: stemming is a pure function)."""
    rules = spelling(lang)
    if rules.stemmer is None:
        return str
    stem: Callable[[str], str] = Stemmer.Stemmer(rules.stemmer).stemWord
    if rules.feminine_ee:
        snowball = stem

        def stem(word: str) -> str:
            # "installée" typed "installee", which Snowball would not take back to "install"
            if word.endswith("ee") or word.endswith("ees"):
                word = word[: word.rindex("ee") + 1]
            return snowball(word)

    # most words of a conversation are a few hundred words: remembering them is faster
    return functools.lru_cache(maxsize=1 << 15)(stem)


@functools.cache
def _roles(lang: str) -> Mapping[str, int]:
    """Word -> its roles (bits), for the few words that have one."""
    rules = spelling(lang)
    roles: dict[str, int] = {".": _BREAK, ",": _BREAK, ";": _BREAK, ":": _BREAK}
    roles |= {"!": _BREAK, "?": _BREAK, "(": _BREAK, ")": _BREAK}
    for words, role in (
        (rules.clause_breaks, _BREAK),
        (rules.negators, _NEGATOR),
        (rules.flag_negators, _FLAG),
        (rules.late_negators, _LATE),
        (rules.kept_negators, _KEPT),
        (rules.answers, _ANSWER),
        (rules.function_words, _FUNCTION),
    ):
        for word in words:
            roles[word] = roles.get(word, 0) | role
    return roles


@functools.cache
def function_tokens(lang: str) -> frozenset[str]:
    """The tokens function words become in `lang` ("est" -> "est", "the" -> "the")."""
    stem = _stemmer(lang)
    return frozenset(stem(w) for w in spelling(lang).function_words)


def _expand(raw: list[str], rules: Spelling) -> list[str]:
    """Elisions, SMS spellings and contractions written out as plain words."""
    out: list[str] = []
    for i, token in enumerate(raw):
        if out and token in rules.clitics:  # "i m" -> "i am"
            out.append(rules.clitics[token])
        elif out and token == "t" and rules.not_bases and out[-1].endswith("n"):
            out[-1] = rules.not_bases.get(out[-1], out[-1][:-1])  # "don t" -> "do not"
            out.append("not")
        elif token == "c" and rules.elisions:  # "c'est", or the SMS "c" alone ("c koi")
            nxt = raw[i + 1] if i + 1 < len(raw) else ""
            out.extend(("ce",) if nxt in ("est", "etait") else ("ce", "est"))
        elif token == "t" and rules.elisions and i + 1 < len(raw) and raw[i + 1][0] not in _VOWELS:
            out.extend(("tu", "es"))  # no elision before a consonant: the SMS "t ki", "t ou"
        elif token == "t" and rules.elisions and raw[i + 1 : i + 2] in (["es"], ["as"]):
            out.append("tu")  # "t'es", "t'as": tu, not te
        elif token in rules.elisions:
            out.append(rules.elisions[token])
        elif token in rules.words:
            out.extend(rules.words[token])
        elif rules.je_consonant and len(token) > 2 and token[0] == "j" and token[1] not in _VOWELS:
            out.append("je")  # "jveux", "jpeux", "jcomprends"
            out.extend(rules.words.get(token[1:], (token[1:],)))
        else:
            out.append(token)
    return out


def _late(words: list[str], i: int, rules: Spelling) -> bool:
    """Whether the "plus" at `i` negates without a "ne" ("je sais plus", "plus de rappels")."""
    before = words[i - 1] if i else ""
    after = words[i + 1] if i + 1 < len(words) else ""
    return before not in rules.not_after and after not in rules.not_before


def _tag(words: list[str], i: int, rules: Spelling) -> bool:
    """Whether the negator at `i` ends a question ("ou pas ?", "or not?")."""
    last = i + 1 == len(words) or not words[i + 1].isalnum()
    return last and i > 0 and words[i - 1] in rules.question_tags


@functools.lru_cache(maxsize=256)
def normalize(text: str, lang: str) -> tuple[str, ...]:
    """The tokens of `text` in `lang`: folded, expanded, stemmed, negation marked.
    (Remembered for the last few texts: a typed text is read by the label comparison,
    the matcher, and the exact-example look-up, each once.)"""
    rules = spelling(lang)
    text = text[:MAX_CHARS]
    for emoji, meant in rules.emoji.items():
        if emoji in text:
            text = text.replace(emoji, f" {' '.join(meant)} ")
    roles = _roles(lang)
    stem = _stemmer(lang)
    tokens: list[str] = []
    scope = 0
    flagged = False  # a "ne" was seen in this clause: "plus" negates whatever its neighbours
    words = _expand(_WORD_OR_BREAK.findall(fold(text)), rules)
    for i, word in enumerate(words):
        role = roles.get(word, 0)
        if not role or role == _FUNCTION:
            token = stem(word)
            if scope and not role:
                tokens.append(NEG + token)
                scope -= 1
            else:
                tokens.append(token)
        elif role & _BREAK:
            scope, flagged = 0, False
            if word.isalnum():
                tokens.append(stem(word))
        elif role & _NEGATOR and _tag(words, i, rules):
            continue  # "c'est gratuit ou pas ?" asks, it does not deny
        elif role & (_NEGATOR | _FLAG) or (role & _LATE and (flagged or _late(words, i, rules))):
            if role & _KEPT:
                tokens.append(word)
            if not role & _ANSWER:
                tokens.append(NEG)
            if role & (_NEGATOR | _LATE):
                scope = SCOPE
            flagged = True
        else:  # a late negator as a comparative: "plus tard", "un peu plus"
            tokens.append(stem(word))
    return tuple(tokens)

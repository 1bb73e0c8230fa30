"""French typography, applied to every French message once it is rendered, so that
operators need not type it.

French puts a space before `; ! ?` and `:` and inside « », and that space must not break:
on a phone, a plain one lets a lone "?" wrap onto a line of its own. `typeset` makes

- a narrow no-break space (U+202F) before `; ! ?`: it replaces the plain space typed
  there, or is added where none was typed (`Vraiment?` becomes `Vraiment ?`);
- a no-break space (U+00A0) before `:`, after « and before »: it replaces the plain space
  typed there, and is never added (a colon glued to what precedes is also a time, 14:05, a
  score, 2:1, or an address; the checker warns about a French `mot:` instead).

It leaves alone what is not French prose: tags and their attributes, `<code>` and `<pre>`,
entities (the `;` of `&amp;`), addresses (`https://…`, `www.…`, `t.me/…`: a `?` there
starts a query), emoticons (`:)`, `;-)`), and a mark at the start of a line or of the text
(nothing can join it to the line before). Commands (`/timezone`) and times (14:05) hold no
mark that gets a space. A mark after another (`?!`) or after an opening bracket (`(?)`)
gets no space, nor one glued on both sides (`a;b`), and a space already no-break (typed
U+00A0, U+202F, `&#160;` or `&#8239;`) is kept: typesetting twice changes nothing.

The text grows by at most one character per `; ! ?` it has (a space added), never for
`:` or « »; the checker's length bound accounts for that (`bot.dialogs.typography_checks`).

It runs on every French message, so it looks only at the few marks a text has (one
regular expression finds them) and decides each from what is around it, rather than
matching every tag, entity and address of the text; and it keeps the last texts it
typeset, since most messages are the same for everyone.
"""

from __future__ import annotations

import functools
import re

NARROW_NBSP = "\u202f"  # before ; ! ?
NBSP = "\u00a0"  # before :, inside « »
LANGUAGES = frozenset({"fr"})  # the languages that are typeset this way
MARKS = ";!?"  # the marks that get a space even where none was typed
CACHED, CACHED_LENGTH = 512, 1024  # texts typeset kept, and the longest kept

# What follows `:` or `;` in an emoticon: `:)`, `;-)`, `:'(`, `:D`, `:/`.
_EMOTICON_TAIL = r"(?:'?-?[()\[\]/\\|*]|-?[DPpOo3](?!\w))"
# An address ends before the punctuation of the sentence it is in (Telegram's own link
# detection stops there too): `allez sur https://x.com?` asks a question.
_ADDRESS_END = r"(?:[^\s<>\"']*[^\s<>\"':!?.,)»])?"
# Addresses and emoticons, as regular expressions (the checker sets them aside too).
ADDRESS = (
    rf"(?:(?:\b[a-z][a-z0-9+.-]*://|\bmailto:|\bwww\.){_ADDRESS_END}"
    rf"|\b[\w-]+(?:\.[\w-]+)+/{_ADDRESS_END})"  # host/path: t.me/…, bit.ly/…
)
EMOTICON = rf"[:;]{_EMOTICON_TAIL}"

_MARK = re.compile("[;:!?«»]")
_ADDRESS = re.compile(ADDRESS, re.I)
_EMOTICON = re.compile(EMOTICON)
_CODE = re.compile(r"<(?P<tag>pre|code)\b[^>]*>.*?</(?P=tag)\s*>", re.S | re.I)
_UNSPACED = re.compile(rf"(?<![ {NBSP}{NARROW_NBSP}])[{MARKS}]")
_SPACE_ENTITY = re.compile(r"&(?:nbsp|#160|#x0*a0|#8239|#x0*202f);\Z", re.I)
_ENTITY_END = re.compile(r"&#?\w+;\Z")
_ENTITY_OPEN = re.compile(r"&#?\w+\Z")
_LINE_TAG = re.compile(r"<(?:br|/?blockquote|/?pre)\b[^>]*>\Z", re.I)
_WORD_EDGE = frozenset(" \t\n\r<>\"'" + NBSP + NARROW_NBSP)
# A mark glued to what follows it too is no prose: `a;b`, `page?id=3`, `x!=y`.
_GLUED_AFTER = re.compile(r"[\w/=&%+#@~]")
# After these (or a space, or the start of a line), a mark gets no space added.
_NO_SPACE_AFTER = frozenset(";:!?([{«¿¡\u2060\ufeff")


def applies(lang: str | None) -> bool:
    """Whether texts in `lang` are typeset (French only)."""
    return lang in LANGUAGES


def typeset(text: str) -> str:
    """`text` (Telegram HTML, French) with French no-break spaces: see the module."""
    return _typeset_cached(text) if len(text) <= CACHED_LENGTH else _typeset(text)


def _typeset(text: str) -> str:
    marks = _MARK.finditer(text)
    first = next(marks, None)
    if first is None:
        return text
    code = [m.span() for m in _CODE.finditer(text)] if "<" in text else []
    out: list[str] = []
    done = 0  # text[:done] is in `out`
    for match in (first, *marks):
        at = match.start()
        if at < done:
            continue
        mark = text[at]
        if mark == "«":
            end = at + 1
            while end < len(text) and text[end] == " ":
                end += 1
            if (
                at + 1 < end < len(text)
                and not text[end].isspace()
                and not _left_alone(text, at, code)
            ):
                out += (text[done : at + 1], NBSP)
                done = end
            continue
        start = at
        while start > done and text[start - 1] == " ":
            start -= 1
        if start == at and (mark not in MARKS or _GLUED_AFTER.match(text, at + 1)):
            continue  # `:` and » get no space added, nor a mark glued on both sides
        before = _previous(text, start)
        if before == "" or before.isspace() or _left_alone(text, at, code):
            continue  # the start of a line (nothing joins it to the line before), or no prose
        if start < at:
            out += (text[done:start], NARROW_NBSP if mark in MARKS else NBSP)
        elif before in _NO_SPACE_AFTER:
            continue
        else:
            out += (text[done:at], NARROW_NBSP)
        done = at
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


# Most messages are the same text for everyone (a node without a name in it): the last
# 512 typeset are kept, if short (4 MB at the very most, well under 1 MB in practice).
_typeset_cached = functools.lru_cache(maxsize=CACHED)(_typeset)


def most_added(text: str) -> int:
    """The most characters `typeset` can add to `text`, wherever it is put: one per
    `; ! ?` not typed after a space."""
    return len(_UNSPACED.findall(text))


def _left_alone(text: str, at: int, code: list[tuple[int, int]]) -> bool:
    """Whether the mark at `at` is in a tag, `<code>`, an entity, an address or an
    emoticon."""
    opening = text.rfind("<", 0, at)
    if opening >= 0 and text.find(">", opening, at) < 0:
        return True  # inside a tag: an attribute
    if code and any(start <= at < end for start, end in code):
        return True
    mark = text[at]
    if mark in ":;" and _EMOTICON.match(text, at):
        return True
    if mark == ";" and _ENTITY_OPEN.search(text, max(0, at - 12), at):
        return True
    if mark in "«»":
        return False
    start = at
    while start > 0 and text[start - 1] not in _WORD_EDGE:
        start -= 1
    if start == at:
        return False  # the mark starts a word: no address holds it
    end = at + 1
    while end < len(text) and text[end] not in _WORD_EDGE:
        end += 1
    return any(a.start() < at < a.end() for a in _ADDRESS.finditer(text, start, end))


def _previous(text: str, end: int) -> str:
    """The visible character before `end`: "" at the start, "\\n" after a line break
    (a newline, `<br>`, a quotation's edge), " " after a space entity, "x" after any
    other entity; other tags are looked through (`<b>Vraiment</b>?`)."""
    i = end - 1
    while i >= 0:
        char = text[i]
        if char == ">":
            start = text.rfind("<", 0, i)
            if start < 0:
                return char
            if _LINE_TAG.search(text, start, i + 1):
                return "\n"
            i = start - 1
            continue
        if char == ";":
            if _SPACE_ENTITY.search(text, max(0, i - 12), i + 1):
                return " "
            if _ENTITY_END.search(text, max(0, i - 12), i + 1):
                return "x"
        return char
    return ""

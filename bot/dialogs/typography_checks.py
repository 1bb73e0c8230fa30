"""Checks of French typography: what the renderer's no-break spaces cannot mend, and the
length they add.

The renderer typesets every French text (`bot.core.typography`), so operators need not
type no-break spaces. What it cannot mend, the checker warns about, each with the text's
file, line and node:

- a mark `; : ! ?` that starts a line (after a newline or `<br>`) or the text: nothing can
  join it to the line before, so it shows alone there;
- a colon glued to the word before it (`Note: oui`): English typography, which the
  renderer leaves, since a glued colon may as well be a time (14:05) or a score (2:1);
- straight quotes (`"oui"`), where French writes « oui »;
- « » glued to their words (`«oui»`): the renderer replaces a typed space there, it does
  not add one.

Only the literal text of a template is read (values and Jinja2 code are not), with its
tags, entities, addresses, emoticons and `<code>` set aside as the renderer does.

The renderer also adds a narrow no-break space before a `; ! ?` typed without one, one
character each: the length bound of French texts counts them (`TypographyChecks.bounded`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from jinja2 import TemplateSyntaxError, nodes

from bot.core import typography
from bot.core.model import Node
from bot.core.render import TELEGRAM_TEXT_LIMIT
from bot.dialogs import templates
from bot.dialogs.bounds import too_long
from bot.dialogs.template_checks import TemplateChecks
from bot.errors import Problem

VALUE, BLOCK, OPAQUE = "\x00", "\x01", "\x02"  # in a skeleton: {{ }}, {% %}, set aside
# Only a text where one of these shows can have a problem below (the others are not even
# lexed): a mark after a line start and tags, a letter and tags then a colon and a space,
# « » without a space, or a straight quote outside tags and Jinja2.
_SUSPECT = re.compile(
    r"""(?:\A|[\n>])(?:\s|<[^<>]*>|&\#?\w+;)*[;:!?]
      | [^\W\d_](?:<[^<>]*>)*:(?:<[^<>]*>)*(?:\s|\Z)
      | «(?!\s) | (?<!\s)»""",
    re.X,
)
_NOT_PROSE = re.compile(r"<[^<>]*>|\{([{%#]).*?[}%#]\}", re.S)


def suspect(source: str) -> bool:
    """Whether `source` may have a problem below: a cheap test before lexing it."""
    if _SUSPECT.search(source) is not None:
        return True
    return '"' in source and '"' in _NOT_PROSE.sub("", source)


_SET_ASIDE = re.compile(
    rf"""
      (?P<code><(?P<block>pre|code)\b[^>]*>.*?</(?P=block)\s*>)
    | (?P<line><(?:br|/?blockquote|/?pre)\b[^>]*>)
    | (?P<tag><[^<>]*>)
    | (?P<space>&(?:nbsp|\#160|\#x0*a0|\#8239|\#x0*202f);)
    | (?P<other>&\#?\w+;|{typography.ADDRESS}|{typography.EMOTICON})
    """,
    re.X | re.S | re.I,
)
_LINE_START = re.compile(rf"(?:\A\s*|\n[ \t{typography.NBSP}{typography.NARROW_NBSP}]*)([;:!?])")
_GLUED_COLON = re.compile(r"[^\W\d_]:(?=\s|\Z)")
_STRAIGHT_QUOTE = re.compile('"')
_GLUED_GUILLEMET = re.compile(rf"«(?=[^\s{BLOCK}])|(?<=[^\s{BLOCK}])»")
_SHOWN = str.maketrans({VALUE: "{{…}}", BLOCK: None, OPAQUE: "…", "\n": "⏎"})


def visible(skeleton: str) -> str:
    """A template's literal text as the reader sees it: tags gone (a `<br>` is a line
    break), what the renderer leaves alone (code, entities, addresses, emoticons) one
    opaque character, a no-break space entity a no-break space."""

    def hide(match: re.Match[str]) -> str:
        if match.group("line") is not None:
            return "\n"
        if match.group("tag") is not None:
            return ""
        return typography.NBSP if match.group("space") is not None else OPAQUE

    return _SET_ASIDE.sub(hide, skeleton)


def findings(text: str) -> list[str]:
    """What the renderer cannot mend in this visible French text (see the module)."""
    found = []
    if match := _LINE_START.search(text):
        mark = match.group(1)
        found.append(
            f"{_quote(text, match.end(1))} starts a line with {mark!r}, which shows alone "
            f'there on a phone: end the line before with it ("mot {mark}")'
        )
    if match := _GLUED_COLON.search(text):
        found.append(
            f"{_quote(text, match.end())} has a colon glued to its word (English "
            'typography): French writes "mot :", and the bot makes that space no-break '
            "(it adds none itself: a glued colon may be a time or a score)"
        )
    if match := _STRAIGHT_QUOTE.search(text):
        found.append(f"{_quote(text, match.end())} has straight quotes: French writes « … »")
    if match := _GLUED_GUILLEMET.search(text):
        found.append(
            f"{_quote(text, match.end())} has « » glued to their words: write « mot » "
            "(the bot makes those spaces no-break)"
        )
    return found


def _quote(text: str, at: int) -> str:
    start = max(0, at - 24)
    shown = text[start : at + 8].translate(_SHOWN).strip()
    return f'"{"…" if start else ""}{shown}"'


class TypographyChecks(TemplateChecks):
    """The typography half of the template checks (the checker mixes it in): the length
    bound of French texts with the spaces the renderer adds, and `typography()`, the
    warnings above."""

    _last_bounds: tuple[nodes.Template, templates.Bounds] | None = None
    _spaced: tuple[object, templates.Table] | None = None

    # -- the length bound ---------------------------------------------------------
    def bounds(self, ast: nodes.Template, table: templates.Table) -> templates.Bounds:
        found = super().bounds(ast, table)
        self._last_bounds = (ast, found)  # read again by `bounded`, just after
        return found

    def bounded(
        self,
        node: Node | None,
        line: int,
        what: str,
        ast: nodes.Template | None,
        table: templates.Table,
        file: str | None = None,
        extra: int = 0,
    ) -> None:
        """Also refuse a French text that fits in Telegram's limit only without the
        narrow no-break spaces the renderer adds (`what` ends with the language)."""
        super().bounded(node, line, what, ast, table, file, extra)
        if ast is None or not typography.applies(what.rpartition(".")[2]):
            return
        last = self._last_bounds
        found = last[1] if last is not None and last[0] is ast else self.bounds(ast, table)
        plain = found.length + extra
        if found.refusals or plain > TELEGRAM_TEXT_LIMIT:
            return  # refused already
        # Each space added needs a mark and a character before it that is neither: at
        # most one for two characters. Most texts are far enough from the limit.
        if plain + plain // 2 <= TELEGRAM_TEXT_LIMIT:
            return
        spaced = self._spaced_length(ast, table) + extra + extra // 2  # `extra`: a fact
        if spaced > TELEGRAM_TEXT_LIMIT:
            self.add(
                node,
                line,
                f"{what} {too_long(spaced)} with the narrow no-break spaces the bot adds "
                "before ; ! ? (one character each): shorten it, or type those spaces",
                file,
            )

    def _spaced_length(self, ast: nodes.Template, table: templates.Table) -> int:
        """A bound with one character more per `; ! ?` of the literal text not typed
        after a space, and every value half as long again (a first name of 64 characters
        can take 32 spaces: `a!a!a!…`); counts and numbers of items are kept."""
        if self._spaced is None or self._spaced[0] is not table.lengths:
            longer = {
                key: length if key[0] in ("#items", "#max") else length + (length + 1) // 2
                for key, length in table.lengths.items()
            }
            self._spaced = (table.lengths, templates.Table(longer))
        literal = list(ast.find_all(nodes.TemplateData))
        written = [data.data for data in literal]
        try:  # the tree is the checker's own, and given back as it was
            for data in literal:
                data.data += OPAQUE * typography.most_added(data.data)
            return templates.analyse(ast, self._spaced[1], self.renderer.env.filters).length
        finally:
            for data, text in zip(literal, written, strict=True):
                data.data = text

    # -- the warnings ---------------------------------------------------------------
    def typography(self) -> None:
        """Warn, text by French text, about what the renderer cannot mend."""
        langs = [lang for lang in self.languages if typography.applies(lang)]
        for lang in langs:
            for node, file, line, what, source in self._texts(lang):
                if not suspect(source):
                    continue
                skeleton = self._skeleton(source)
                if skeleton is not None:
                    self._warn(file, line, node, what, skeleton)
            facts = self.built.facts_source
            for fact in self.built.facts.values():
                if lang in fact.text and suspect(fact.text[lang]):
                    line = facts.line("facts", fact.id, "text", lang) if facts else fact.line
                    what = f"fact '{fact.id}' text.{lang}"
                    self._warn(fact.file, line, None, what, fact.text[lang])

    def _warn(self, file: str, line: int, node: str | None, what: str, text: str) -> None:
        for finding in findings(visible(text)):
            self.problems.append(Problem(file, line, node, f"{what}: {finding}", "warning"))

    def _texts(self, lang: str) -> Iterator[tuple[str | None, str, int, str, str]]:
        """(node id, file, line, what, source) of every text in `lang` the bot renders."""
        for flow in self.built.flows.values():
            src = self.built.sources[flow.id]
            for node in flow.nodes.values():
                line = src.line("nodes", node.id, "say", lang)
                yield node.id, flow.file, line, f"say.{lang}", node.say[lang]
                for followup in node.nudges:
                    yield node.id, flow.file, followup.line, f"nudge say.{lang}", followup.say[lang]
                for rule in node.on_text:
                    if rule.reply is not None:
                        yield node.id, flow.file, rule.line, f"on_text say.{lang}", rule.reply[lang]
            for rule in flow.on_text:
                if rule.reply is not None:
                    yield None, flow.file, rule.line, f"on_text say.{lang}", rule.reply[lang]
        messages = self.built.messages_source
        if messages is not None:
            for key, texts in self.built.messages.items():
                if lang in texts:
                    line = messages.line("messages", key, lang)
                    yield None, messages.path, line, f"message '{key}'.{lang}", texts[lang]

    def _skeleton(self, source: str) -> str | None:
        """The literal text of a template, `{{ }}` as VALUE and `{% %}` as BLOCK (None:
        a syntax error, reported elsewhere)."""
        parts: list[str] = []
        try:
            for _, kind, value in self.renderer.env.lex(source):
                if kind == "data":
                    parts.append(value)
                elif kind == "variable_begin":
                    parts.append(VALUE)
                elif kind == "block_begin":
                    parts.append(BLOCK)
        except TemplateSyntaxError:
            return None
        return "".join(parts)

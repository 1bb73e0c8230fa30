"""What Telegram accepts as HTML (parse_mode HTML): the emulator refuses the rest, as
Telegram does; an operator's broadcast text is checked with it before it goes out, and
tests use `check_html` on what the bot would send."""

from __future__ import annotations

from html.parser import HTMLParser

ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
    | {"tg-spoiler", "span", "blockquote", "tg-emoji"}
)


class _HtmlCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.error = self.error or f'unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.error = self.error or f'unexpected end tag "{tag}"'


def check_html(text: str) -> str | None:
    """Why Telegram would refuse `text` with parse_mode HTML, or None."""
    parser = _HtmlCheck()
    parser.feed(text)
    parser.close()
    if parser.stack and not parser.error:
        return f'unclosed start tag "{parser.stack[-1]}"'
    return parser.error

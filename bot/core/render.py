"""Rendering of dialog texts: one sandboxed Jinja2 environment, Telegram HTML out.

User-supplied values (names, typed text) only ever enter as template *data*, and HTML
autoescaping makes them inert. Compiled templates are cached by their source.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.errors import VieError

TELEGRAM_TEXT_LIMIT = 4096
_TAG = re.compile(r"<[^<>]*>")
_LINK = re.compile(r'<a\s+href="([^"]*)"\s*>(.*?)</a>', re.S | re.I)


class RenderError(VieError):
    """A template failed while rendering (a bug in a dialog, never in user input)."""


def make_environment() -> SandboxedEnvironment:
    """The single Jinja2 environment configuration used everywhere."""
    return SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=True,
        # No trim_blocks: what operators write is what people read; `{%- -%}` trims.
        keep_trailing_newline=False,
    )


class Renderer:
    """Compiles and caches templates and conditions; rendering is pure."""

    def __init__(self) -> None:
        self.env = make_environment()
        self._templates: dict[str, Template] = {}
        self._conditions: dict[str, Callable[..., Any]] = {}

    def template(self, source: str) -> Template:
        """Compile `source` once (raises jinja2.TemplateSyntaxError)."""
        found = self._templates.get(source)
        if found is None:
            found = self._templates[source] = self.env.from_string(source)
        return found

    def condition(self, expression: str) -> Callable[..., Any]:
        found = self._conditions.get(expression)
        if found is None:
            found = self._conditions[expression] = self.env.compile_expression(expression)
        return found

    def render(self, source: str, context: Mapping[str, Any]) -> str:
        """Render a text template; failures become RenderError naming the template."""
        try:
            return self.template(source).render(context).strip()
        except TemplateError as exc:
            raise RenderError(f"template {source[:60]!r} failed: {exc}") from exc

    def test(self, expression: str, context: Mapping[str, Any]) -> bool:
        """Evaluate a condition; a failing condition counts as false."""
        try:
            return bool(self.condition(expression)(**context))
        except (TemplateError, TypeError, ValueError, ArithmeticError):
            return False


def visible_length(text: str) -> int:
    """Characters Telegram counts once HTML entities are parsed (tags do not count)."""
    return len(html.unescape(_TAG.sub("", text)))


def truncate_visible(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> str:
    """Cut an HTML text that is too long to a plain text within `limit`."""
    if visible_length(text) <= limit:
        return text
    plain = html.unescape(_TAG.sub("", text))
    return html.escape(plain[: limit - 1] + "…", quote=False)


def to_plain(text: str) -> str:
    """Telegram HTML to plain terminal text: links keep their address, tags go."""
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    return html.unescape(_TAG.sub("", text))


def escape(value: str) -> str:
    """Escape a user-supplied value for Telegram HTML."""
    return html.escape(value, quote=False)

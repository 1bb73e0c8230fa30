"""Rendering of dialog texts: one sandboxed Jinja2 environment, Telegram HTML out.

User-supplied values (names, typed text) only ever enter as template *data*, and HTML
autoescaping makes them inert. Compiled templates are cached by their source. A French
text gets its no-break spaces once rendered (`bot.core.typography`).

The checker (`bot.dialogs.templates`) refuses every template whose work it cannot bound;
the environment below refuses the same things again while rendering, in case a template
reaches it unchecked: a repetition, a power, a padding or a `%` format that would build
more than `MAX_BUILT` characters (or numbers of more than `MAX_INT_BITS` bits) stops the
render with a `SecurityError`, which becomes a RenderError like any template failure.
"""

from __future__ import annotations

import functools
import html
import re
import string
from collections.abc import Callable, Mapping, Sized
from typing import Any, cast

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

from bot.core import typography
from bot.errors import VieError

TELEGRAM_TEXT_LIMIT = 4096
MAX_BUILT = 100_000  # characters (or items) of any one value a template builds
MAX_WIDTH = TELEGRAM_TEXT_LIMIT  # a padding, indentation or format width
MAX_INT_BITS = 4096  # a power's result (about 1,233 digits)
MAX_PRODUCT_BITS = 1 << 20  # a product of two numbers, only ever reached in a loop
MAX_ITEMS = MAX_RANGE  # the most numbers range() gives (the sandbox refuses more)
_TAG = re.compile(r"<[^<>]*>")
_LINK = re.compile(r'<a\s+href="([^"]*)"\s*>(.*?)</a>', re.S | re.I)
# One printf-style conversion: flags, width and precision (`*` takes them from the values).
PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.)", re.S)
# The width and precision of a str.format() spec such as `>10.3f`.
_FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?")
_SEQUENCES = (str, bytes, bytearray, list, tuple)


class RenderError(VieError):
    """A template failed while rendering (a bug in a dialog, never in user input)."""


def printf_widths(fmt: str) -> list[int] | None:
    """The widths and precisions of a `%` format (None: one is `*`, taken from a value)."""
    widths = []
    for match in PRINTF.finditer(fmt):
        for part in match.group(1, 2):
            if part == "*":
                return None
            if part:
                widths.append(_width(part))
    return widths


def _width(digits: str) -> int:
    return int(digits) if len(digits) < 10 else 10**9  # int() refuses 4,301 digits


def _refuse(what: str) -> SecurityError:
    return SecurityError(f"{what} (a dialog text may build at most {MAX_BUILT} characters)")


def _check_printf(fmt: str) -> None:
    widths = printf_widths(fmt)
    if widths is None:
        raise _refuse(f"the format {fmt[:40]!r} takes a width from its values")
    if widths and max(widths) > MAX_WIDTH:
        raise _refuse(f"the format {fmt[:40]!r} pads to {max(widths)} characters")


def _check_format(fmt: str) -> None:
    """str.format(): a width or precision over MAX_WIDTH, or one taken from the values."""
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # str.format itself will raise
    for _, _, spec, _ in fields:
        if not spec:
            continue
        match = _FORMAT_SPEC.match(spec)
        widths = [_width(w) for w in match.groups() if w] if match else []
        if "{" in spec or (widths and max(widths) > MAX_WIDTH):
            raise _refuse(f"the format {fmt[:40]!r} pads to a width over {MAX_WIDTH}")


def _check_repeat(left: Any, right: Any) -> None:
    if isinstance(right, int) and isinstance(left, _SEQUENCES):
        left, right = right, left
    if isinstance(left, int) and isinstance(right, _SEQUENCES):
        if left * len(right) > MAX_BUILT:
            raise _refuse(f"repeating {len(right)} character(s) or item(s) {left} times")
    elif (
        isinstance(left, int)
        and isinstance(right, int)
        and left.bit_length() + right.bit_length() > MAX_PRODUCT_BITS
    ):
        raise _refuse("a product of numbers this large")


def _check_power(base: Any, exponent: Any) -> None:
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and exponent > 0
        and abs(base) > 1
        and exponent * base.bit_length() > MAX_INT_BITS
    ):
        raise _refuse(f"{base} ** {exponent} has over {MAX_INT_BITS} bits")


def _check_str_method(text: str, name: str, args: tuple[Any, ...], kwargs: Any) -> None:
    """The str methods that can build far more than they are given."""
    first = args[0] if args else kwargs.get("tabsize")
    if name in ("center", "ljust", "rjust", "zfill") and isinstance(first, int):
        if first > max(MAX_WIDTH, len(text)):
            raise _refuse(f"{name}({first}) pads to {first} characters")
    elif name == "expandtabs" and isinstance(first, int):
        if text.count("\t") * first > MAX_BUILT:
            raise _refuse(f"expandtabs({first})")
    elif name == "replace" and len(args) > 1 and isinstance(args[1], str):
        if len(text) + (len(text) + 1) * len(args[1]) > MAX_BUILT:
            raise _refuse(f"replacing with {len(args[1])} characters")
    elif name == "join" and isinstance(first, Sized):
        if len(text) * (len(first) - 1) > MAX_BUILT:
            raise _refuse(f"joining {len(first)} items with {len(text)} characters")
    elif name == "translate" and isinstance(first, Mapping):
        longest = max((len(v) for v in first.values() if isinstance(v, str)), default=1)
        if len(text) * longest > MAX_BUILT:
            raise _refuse(f"translating to {longest} characters a character")


def _filter_checks() -> dict[str, Callable[..., None]]:
    """Per filter, a check of the arguments it is called with (after its value)."""

    def center(value: Any, width: int = 80, *_: Any) -> None:
        if isinstance(width, int) and width > max(MAX_WIDTH, len(str(value))):
            raise _refuse(f"center({width}) pads to {width} characters")

    def indent(value: Any, width: int | str = 4, *_: Any, **__: Any) -> None:
        size = len(width) if isinstance(width, str) else width
        if isinstance(size, int) and (
            size > MAX_WIDTH or (str(value).count("\n") + 2) * size > MAX_BUILT
        ):
            raise _refuse(f"indent({size}) indents by {size} characters")

    def wordwrap(value: Any, width: int = 79, b: bool = True, wrapstring: Any = None,
                 *_: Any, **__: Any) -> None:  # fmt: skip
        if isinstance(wrapstring, str) and len(str(value)) * len(wrapstring) > MAX_BUILT:
            raise _refuse(f"wordwrap with a {len(wrapstring)}-character wrapstring")

    def format_(value: Any, *_: Any, **__: Any) -> None:
        _check_printf(str(value))

    def replace(value: Any, old: Any = "", new: Any = "", *_: Any) -> None:
        size = len(str(value))
        if size + (size + 1) * len(str(new)) > MAX_BUILT:
            raise _refuse(f"replacing with {len(str(new))} characters")

    def join(value: Any, d: Any = "", *_: Any, **__: Any) -> None:
        if isinstance(value, Sized) and len(str(d)) * (len(value) - 1) > MAX_BUILT:
            raise _refuse(f"joining {len(value)} items with {len(str(d))} characters")

    def batch(value: Any, linecount: Any = 1, *_: Any, **__: Any) -> None:
        if isinstance(linecount, int) and linecount > MAX_BUILT:
            raise _refuse(f"batches of {linecount} items")

    def slice_(value: Any, slices: Any = 1, *_: Any, **__: Any) -> None:
        if isinstance(slices, int) and slices > MAX_BUILT:
            raise _refuse(f"{slices} slices")

    def tojson(value: Any, indent: Any = None) -> None:
        size = len(indent) if isinstance(indent, str) else indent
        if isinstance(size, int) and size > MAX_WIDTH:
            raise _refuse(f"tojson(indent={size})")

    return {"center": center, "indent": indent, "wordwrap": wordwrap, "format": format_,
            "replace": replace, "join": join, "batch": batch, "slice": slice_,
            "tojson": tojson}  # fmt: skip


def _guarded(original: Callable[..., Any], check: Callable[..., None]) -> Callable[..., Any]:
    """`original` (a filter or test), calling `check` on its arguments first."""
    skip = 1 if hasattr(original, "jinja_pass_arg") else 0  # the context/environment

    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        check(*args[skip:], **kwargs)
        return original(*args, **kwargs)

    return guarded


def _number_only(value: Any, *_: Any) -> None:
    """even/odd/divisibleby compute `value % n`: on a text, that is a `%` format."""
    if isinstance(value, str):
        raise SecurityError(f"{value[:40]!r} is not a number")


class _BoundedNamespace(Namespace):
    """namespace(): its attributes survive a loop's turns, so their growth is bounded."""

    def __setitem__(self, name: str, value: Any) -> None:
        if isinstance(value, _SEQUENCES) and len(value) > MAX_BUILT:
            raise _refuse(f"namespace attribute {name!r} of {len(value)} items")
        super().__setitem__(name, value)


def _lipsum(original: Callable[..., str]) -> Callable[..., str]:
    def lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
        if n * max * 12 > MAX_BUILT:
            raise _refuse(f"lipsum({n}, max={max})")
        return original(n, html, min, max)

    return lipsum


class DialogEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox (no private attributes, no changing lists or dicts in place) that also
    refuses to build huge values: see the module's docstring."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        for name, check in _filter_checks().items():
            self.filters[name] = _guarded(self.filters[name], check)
        for name in ("even", "odd", "divisibleby"):
            test = cast("Callable[..., bool]", self.tests[name])  # typed as `function`
            self.tests[name] = cast(Any, _guarded(test, _number_only))
        self.globals["namespace"] = _BoundedNamespace
        lipsum = self.globals["lipsum"]
        assert callable(lipsum)
        self.globals["lipsum"] = _lipsum(lipsum)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif isinstance(left, str):  # "%": a printf-style format
            _check_printf(left)
        return self.binop_table[operator](left, right)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, str):
            _check_str_method(owner, getattr(obj, "__name__", ""), args, kwargs)
        return super().call(context, obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(value.__self__)
        return wrapped


def make_environment() -> DialogEnvironment:
    """The single Jinja2 environment configuration used everywhere."""
    return DialogEnvironment(
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
        """Render a text template; failures become RenderError naming the template.

        A text in a language with its own typography (the context's `user.lang`, the
        language the text is written in: French) is typeset once rendered, values
        included (`bot.core.typography`)."""
        try:
            text = self.template(source).render(context).strip()
        except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
            # a template that divides by zero or indexes past a list fails like a Jinja2
            # error: the person gets the fallback text, never a crashed turn
            raise RenderError(f"template {source[:60]!r} failed: {exc}") from exc
        return typography.typeset(text) if typography.applies(_language(context)) else text

    def test(self, expression: str, context: Mapping[str, Any]) -> bool:
        """Evaluate a condition; a failing condition counts as false."""
        try:
            return bool(self.condition(expression)(**context))
        except (TemplateError, TypeError, ValueError, ArithmeticError):
            return False


def _language(context: Mapping[str, Any]) -> str | None:
    user = context.get("user")
    lang = user.get("lang") if isinstance(user, Mapping) else None
    return lang if isinstance(lang, str) else None


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

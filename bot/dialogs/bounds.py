"""How long each value a template receives can be: the table the length bound of
`templates.max_length` reads, for node texts and for the bot's own messages. The values
the engine's and the features' messages receive are declared by them, next to the code
that passes them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.core.model import STAGES, Fact
from bot.core.render import TELEGRAM_TEXT_LIMIT
from bot.dialogs import templates

USER_FIELDS = {"first_name": 64, "lang": 2}
PROGRESS_FIELDS = {"reached": 3, "total": 3, "done": 5}
Lengths = dict[tuple[str, ...], int]


def value_lengths(variables: Mapping[str, int], facts: Iterable[Fact]) -> Lengths:
    """Dotted name -> its longest value; `("#items", …)` -> the most items of a list."""
    out: Lengths = {("user", k): v for k, v in USER_FIELDS.items()}
    out.update({("vars", k): v for k, v in variables.items()})
    for stage in STAGES:
        out.update({("progress", stage, k): v for k, v in PROGRESS_FIELDS.items()})
    longest = {"text": 0, "source": 0, "url": 0}
    for fact in facts:
        longest["text"] = max([longest["text"], *(len(t) for t in fact.text.values())])
        longest["source"] = max(longest["source"], len(fact.source))
        longest["url"] = max(longest["url"], len(fact.url or ""))
    out.update({("fact", k): v for k, v in longest.items()})
    out[("fact", "year")] = 4
    out[("#items", "stages")] = len(STAGES)
    return out


def too_long(bound: int) -> str:
    if bound >= templates.UNBOUNDED:
        return "can render up to any length (a loop over a list of unknown size)"
    return f"can render up to {bound} characters (Telegram allows {TELEGRAM_TEXT_LIMIT})"

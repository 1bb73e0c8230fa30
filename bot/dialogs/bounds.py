"""How long each value a template receives can be: the table the length bound of
`templates.max_length` reads, for node texts and for the bot's own messages. The values
the engine's and the features' messages receive are declared by them, next to the code
that passes them. Counts also have a largest value (`("#max", …)`), so that a template
may repeat a text by them: `{{ '●' * s.reached }}`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.core.model import STAGES, Fact, Flow
from bot.core.render import TELEGRAM_TEXT_LIMIT
from bot.dialogs import templates

USER_FIELDS = {"first_name": 64, "lang": 2}
PROGRESS_FIELDS = {"reached": 3, "total": 3, "done": 5}
Lengths = dict[tuple[str, ...], int]


def stage_totals(flows: Iterable[Flow]) -> dict[str, int]:
    """Per stage, how many milestones it has: what `progress.<stage>.total` is."""
    milestone_stage: dict[str, str] = {}
    for flow in flows:
        for node in flow.nodes.values():
            if node.milestone and flow.stage:
                milestone_stage[node.milestone] = flow.stage
    return {s: sum(1 for v in milestone_stage.values() if v == s) for s in STAGES}


def value_lengths(
    variables: Mapping[str, int], facts: Iterable[Fact], totals: Mapping[str, int] | None = None
) -> Lengths:
    """Dotted name -> its longest value; `("#items", …)` -> the most items of a list;
    `("#max", …)` -> the largest a count may be (milestones reached are at most the
    stage's total: `totals`, from `stage_totals`)."""
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
    out[("#items", "stages")] = len(STAGES)  # the /progress message: one item per stage
    out.update({("#item", "stages", k): v for k, v in PROGRESS_FIELDS.items()})
    out[("#item", "stages", "code")] = 1
    if totals is not None:
        for count in ("reached", "total"):
            out.update({("#max", "progress", s, count): totals.get(s, 0) for s in STAGES})
            out[("#max", "#item", "stages", count)] = max(totals.values(), default=0)
    return out


def too_long(bound: int) -> str:
    if bound >= templates.UNBOUNDED:
        return "can render up to any length"
    return f"can render up to {bound} characters (Telegram allows {TELEGRAM_TEXT_LIMIT})"

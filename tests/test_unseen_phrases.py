"""Phrases the intents were never tuned on, typed where people are in the bundled journey:
how often the bot falls back to "not understood" (at most 1 in 5), and how often it lands
where a person would expect."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from bot.core.dialogset import DialogSet
from bot.core.engine import step
from bot.core.events import Record, Text
from bot.core.model import Target
from bot.core.state import evolve, new_state
from tests.journeys import NOW

UNSEEN = Path(__file__).resolve().parent / "fixtures" / "unseen_phrases.yaml"
MAX_FALLBACK = 0.20  # the bar: the generic fallback for at most 1 in 5
MIN_REACHED = 0.70  # and most of them land where a person would expect
MAX_WRONG = 0.10  # a wrong turn costs more than a "did you mean…?": rarely


def run(bundled: DialogSet, lang: str) -> tuple[Counter[str], list[str]]:
    outcome: Counter[str] = Counter()
    missed = []
    for item in yaml.safe_load(UNSEEN.read_text(encoding="utf-8"))[lang]:
        flow, node_id = item["at"].split(".")
        node = bundled.node(Target(flow, node_id))
        assert node is not None, item["at"]
        state = evolve(new_state(5, lang, NOW, "Odette"), flow=flow, node=node_id,
                       node_version=node.version)  # fmt: skip
        after, effects = step(bundled, state, Text(item["text"]), NOW)
        records = [e.name for e in effects if isinstance(e, Record)]
        reached = f"{after.flow}.{after.node}"
        expected = item["at"] if item["reach"] == "stay" else item["reach"]
        outcome["total"] += 1
        if "fallback" in records:
            outcome["fallback"] += 1  # never a right answer, even where staying was
        elif reached == expected:
            outcome["reached"] += 1
        else:
            missed.append(f"{item['at']} {item['text']!r}: {reached}, expected {expected}")
    return outcome, missed


def test_unseen_phrases_rarely_fall_back_and_mostly_land_right(bundled: DialogSet) -> None:
    for lang in ("fr", "en"):
        outcome, missed = run(bundled, lang)
        total = outcome["total"]
        assert total >= 100
        assert outcome["fallback"] / total <= MAX_FALLBACK, (lang, outcome, missed[:30])
        assert outcome["reached"] / total >= MIN_REACHED, (lang, outcome, missed[:30])
        wrong = total - outcome["reached"] - outcome["fallback"]
        assert wrong / total <= MAX_WRONG, (lang, outcome, missed[:30])

"""Understanding what people type: intents recognised from examples, in each language.

`Matcher(intents, languages)` is built once when the dialogs load; `best`, `rank` and
`label` are pure and fast (see docs/understanding.md for the measurements behind it).
"""

from bot.understanding.evaluate import (
    NONE,
    Confusion,
    Phrase,
    Report,
    Score,
    evaluate,
    phrases_from,
)
from bot.understanding.matcher import Guess, Intent, Matcher, UnderstandingError
from bot.understanding.text import NEG, normalize

__all__ = [
    "NEG",
    "NONE",
    "Confusion",
    "Guess",
    "Intent",
    "Matcher",
    "Phrase",
    "Report",
    "Score",
    "UnderstandingError",
    "evaluate",
    "normalize",
    "phrases_from",
]

"""The phrase test file (`tests/phrases.yaml` in the dialog folder): realistic typed
phrases and the intent each must reach, run against the dialogs' matcher by
`vie-coach check`, which fails under `TARGET` in any language."""

from __future__ import annotations

import os
from pathlib import Path

from bot.core.dialogset import DialogSet
from bot.dialogs import yamlfile
from bot.errors import Problem
from bot.understanding import NONE, Report, UnderstandingError, evaluate, phrases_from

TARGET = 0.90
PHRASES = Path("tests") / "phrases.yaml"


def check_phrases(
    directory: str | os.PathLike[str], dialogs: DialogSet
) -> tuple[Report | None, list[Problem]]:
    """The report of the folder's phrase file (None when it has none, or cannot run)."""
    path = Path(directory) / PHRASES
    shown = os.path.relpath(path)
    if not path.is_file():
        return None, []
    if dialogs.matcher is None:
        return None, [Problem(shown, 0, None, "a phrase file, but no intents to test it on")]
    try:
        doc = yamlfile.load(path.read_text(encoding="utf-8"))
        phrases = phrases_from(doc)
    except (yamlfile.YamlError, UnicodeDecodeError, OSError, UnderstandingError) as exc:
        return None, [Problem(shown, 0, None, f"cannot read the phrase file: {exc}")]
    problems = []
    for lang, items in doc["phrases"].items():
        if lang not in dialogs.languages:
            line = yamlfile.line_of(doc, ("phrases", lang))
            problems.append(Problem(shown, line, None, f"language '{lang}' is not configured"))
            continue
        for number, item in enumerate(items):
            intent = str(item.get("intent"))
            if intent != NONE and intent not in dialogs.intents:
                line = yamlfile.line_of(doc, ("phrases", lang, number))
                problems.append(
                    Problem(shown, line, None,
                            f"phrase {item['text']!r} expects unknown intent '{intent}'")
                )  # fmt: skip
    if problems:
        return None, problems
    report = evaluate(dialogs.matcher, phrases)
    for lang in report.failing(TARGET):
        score = report.languages[lang]
        problems.append(
            Problem(shown, yamlfile.line_of(doc, ("phrases", lang)), None,
                    f"{lang}: {score.accuracy:.1%} of the phrases reach their intent "
                    f"({score.correct}/{score.total}), under {TARGET:.0%}: add examples to "
                    "the intents they were taken for (see the confusions above)")
        )  # fmt: skip
    return report, problems

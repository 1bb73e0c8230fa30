"""Scripted dialog tests in YAML, for operators (`dialogs/tests/journeys/*.yaml`): what
a script says, as records, where scripts live, and what a script may name of the
dialogs it tests.

Reading a script is `scenario_parse`, playing one `scenario_run`; `vie-coach test`
(bot/app/test_command.py) puts them together. The format is in docs/dialogs.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core import variants
from bot.core.dialogset import DialogSet
from bot.core.model import STAGES, Experiment, Scalar
from bot.errors import Problem, VieError
from bot.testing.harness import loose as harness_loose

JOURNEYS = Path("tests") / "journeys"  # in a dialog folder: where its scripts live

# A Monday, 11:00 in Paris: outside every quiet hour, so that reminders come when due.
DEFAULT_START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
DEFAULT_PERSON = "me"
DEFAULT_FIRST_NAME = "Alex"  # what the bot calls the default person

ACTIONS = ("start", "tap", "tap_earlier", "tap_expired", "say", "command", "send")
STEP_KINDS = (*ACTIONS, "wait", "expect", "pin")
EXPECT_KEYS = (
    "text",
    "no_text",
    "buttons",
    "button",
    "no_button",
    "no_message",
    "nudge",
    "file",
    "stage_done",
    "stage_not_done",
    "var",
    "variant",
    "at",
)
MEDIA = ("sticker", "photo", "voice", "video", "document", "edited", "other")
# what each action takes, for the messages about a step that lacks it
ARGUMENTS = {
    "start": "a payload, or nothing",
    "tap": "a button: its label (or part of it), its id, or its number",
    "tap_earlier": "a button of an earlier message: its label, id or number",
    "tap_expired": "a button: its label, id or number",
    "say": "the text typed",
    "command": "the command, e.g. /progress",
    "send": f"one of {', '.join(MEDIA)}",
}


class ScriptError(VieError):
    """Scripts that cannot be run; `problems` lists every one, each with file and line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            f"{len(self.problems)} problem(s) in the test scripts:\n"
            + "\n".join(str(p) for p in self.problems)
        )


@dataclass(frozen=True, slots=True)
class Where:
    """Where a step is written, to name it in every message about it."""

    file: str
    line: int
    scenario: str
    number: int  # 1-based, in its scenario
    shown: str  # the step as written, shortened

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: scenario {self.scenario!r}, step {self.number} ({self.shown})"


@dataclass(frozen=True, slots=True)
class Act:
    """Something a person does: `kind` is one of ACTIONS."""

    kind: str
    who: str
    value: str | int  # payload, button (label, id or number), text, or media kind
    where: Where
    invite_from: str | None = None  # start: the payload of this person's latest link


@dataclass(frozen=True, slots=True)
class Wait:
    delta: timedelta
    where: Where


@dataclass(frozen=True, slots=True)
class Expect:
    """What must hold after the steps before it (empty fields are not checked)."""

    who: str
    where: Where
    text: tuple[str, ...] = ()
    no_text: tuple[str, ...] = ()
    buttons: tuple[str, ...] | None = None
    button: tuple[str, ...] = ()
    no_button: tuple[str, ...] = ()
    no_message: bool = False
    nudge: bool | None = None
    file: tuple[str, ...] = ()
    stage_done: tuple[str, ...] = ()
    stage_not_done: tuple[str, ...] = ()
    var: tuple[tuple[str, Scalar | None], ...] = ()
    variant: tuple[tuple[str, str], ...] = ()  # (experiment, the variant kept for them)
    at: str | None = None


@dataclass(frozen=True, slots=True)
class Pin:
    """From now on, `who` is shown these variants: (experiment, variant) pairs."""

    who: str
    arms: tuple[tuple[str, str], ...]
    where: Where


Step = Act | Wait | Expect | Pin


@dataclass(frozen=True, slots=True)
class Someone:
    """One person of a scenario: `name` in the script, `first_name` for the bot."""

    name: str
    first_name: str
    lang: str | None
    line: int


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    file: str
    line: int
    lang: str | None  # None: the first configured language
    people: tuple[Someone, ...]
    start_at: datetime
    steps: tuple[Step, ...]


def discover(folder: Path) -> list[Path]:
    """The scripts of a dialog folder (`tests/journeys/*.yaml`), in name order."""
    return sorted((folder / JOURNEYS).glob("*.yaml"))


def shown_names(paths: Sequence[Path]) -> dict[Path, str]:
    """Each path relative to the working folder when it is inside it (short, and what
    an editor opens), else as given."""
    here = Path.cwd()
    out: dict[Path, str] = {}
    for path in paths:
        try:
            out[path] = (
                os.path.relpath(path.resolve(), here)
                if path.resolve().is_relative_to(here)
                else str(path)
            )
        except (OSError, ValueError):  # another drive, on Windows
            out[path] = str(path)
    return out


def check_against(scenarios: Iterable[Scenario], dialogs: DialogSet) -> list[Problem]:
    """What the scripts name that these dialogs do not have: a language, a place, a
    stage, a variable, an experiment or its variant."""
    languages = ", ".join(dialogs.languages)
    problems: list[Problem] = []
    for scenario in scenarios:
        label = f"scenario {scenario.name!r}"
        for lang, line in [
            (scenario.lang, scenario.line),
            *((p.lang, p.line) for p in scenario.people),
        ]:
            if lang is not None and lang not in dialogs.languages:
                why = f"{label}: lang {lang!r} is not one of the dialogs' languages ({languages})"
                problems.append(Problem(scenario.file, line, None, why))
        for step in scenario.steps:
            if isinstance(step, Pin):
                wrong = unknown_arms(step.arms, dialogs.experiments)
            elif isinstance(step, Expect):
                wrong = expected(step, dialogs) + unknown_arms(step.variant, dialogs.experiments)
            else:
                continue
            where = f"{label}, step {step.where.number}"
            problems += [
                Problem(step.where.file, step.where.line, None, f"{where}: {w}") for w in wrong
            ]
    return problems


def expected(step: Expect, dialogs: DialogSet) -> list[str]:
    """What an `expect` names that the dialogs do not have: a stage, a variable, a place."""
    flows = dialogs.flows
    stages = [*STAGES, *sorted({f.stage for f in flows.values() if f.stage} - set(STAGES))]
    wrong = [
        f"no stage {s!r} in the dialogs ({', '.join(stages)})"
        for s in (*step.stage_done, *step.stage_not_done)
        if s not in stages
    ]
    wrong += [f"no dialog sets a variable {n!r}" for n, _ in step.var if n not in dialogs.variables]
    if step.at is not None:
        flow, _, node = step.at.partition(".")
        if flow not in flows or (node and node not in flows[flow].nodes):
            wrong.append(f"`at: {step.at}` is no {'node' if node else 'flow'} of the dialogs")
    return wrong


def unknown_arms(
    arms: Iterable[tuple[str, str]], experiments: Mapping[str, Experiment]
) -> list[str]:
    """The experiments and variants named that the dialogs do not have, each with the
    ones they have."""
    return [w for name, arm in arms if (w := variants.unknown(experiments, name, arm))]


def written(kind: str, value: Any) -> str:
    """The step as written, in one short line of YAML's flow style."""
    text = _flow(value)
    return f"{kind}: {text if len(text) <= 70 else text[:69] + '…'}"


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return (
        "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    )


def loose(text: str) -> str:
    """Texts as scripts compare them: as ChatHarness.expect does (case, and the spaces
    French typography puts, do not count), and a typographic apostrophe a plain one."""
    return harness_loose(text).replace("\u2019", "'")


def select(scenarios: Sequence[Scenario], name_part: str | None) -> list[Scenario]:
    """The scenarios whose name contains `name_part` (whatever the case)."""
    if not name_part:
        return list(scenarios)
    wanted = loose(name_part)
    return [s for s in scenarios if wanted in loose(s.name)]

"""Scripted dialog tests as operators write them (`dialogs/tests/journeys/*.yaml`): read
and checked completely before anything runs, every problem at once, each as `file:line`.

A script is a list of scenarios; a scenario is people, a start time and steps; a step is
one thing done (`start`, `tap`, `say`, `command`, `send`, `wait`), one `expect` or one
`pin` (a variant shown from then on); reading the last two is in `scenario_expect`. The
records are in `scenarios`, the format in docs/dialogs.md.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.dialogset import DialogSet
from bot.core.durations import parse_duration
from bot.dialogs import yamlfile
from bot.errors import Problem
from bot.testing.scenario_expect import BOOLEAN_WORDS, ExpectReader
from bot.testing.scenarios import (
    ARGUMENTS,
    DEFAULT_FIRST_NAME,
    DEFAULT_PERSON,
    DEFAULT_START,
    MEDIA,
    STEP_KINDS,
    Act,
    Scenario,
    ScriptError,
    Someone,
    Step,
    Wait,
    Where,
    check_against,
    shown_names,
    written,
)

_SCRIPT_KEYS = ("scenarios", "lang")
_SCENARIO_KEYS = ("name", "lang", "people", "start_at", "steps")
_PERSON_KEYS = ("name", "first_name", "lang")


def load_scripts(paths: Sequence[Path], shown: dict[Path, str] | None = None) -> list[Scenario]:
    """Every scenario of these files, in order; ScriptError lists every problem found.
    `shown`: how to name each file in messages (default: the path as given)."""
    scenarios: list[Scenario] = []
    problems: list[Problem] = []
    for path in paths:
        name = (shown or {}).get(path, str(path))
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(name, 0, None, f"cannot read this script: {exc}"))
            continue
        found, wrong = parse_script(text, name)
        scenarios += found
        problems += wrong
    if problems:
        raise ScriptError(problems)
    return scenarios


def parse_script(text: str, file: str) -> tuple[list[Scenario], list[Problem]]:
    """The scenarios of one script and the problems found in it."""
    reader = _Reader(file)
    try:
        doc = yamlfile.load(text)
    except yamlfile.YamlError as exc:  # MarkedError says where
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
        why = ": ".join(str(p) for p in parts if p) or exc
        reader.problem(mark.line + 1 if mark else 0, f"YAML syntax: {why}")
        return [], reader.problems
    return reader.script(doc), reader.problems


class _Reader(ExpectReader):
    """Reads one script, noting problems rather than stopping at the first."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, None, message))

    def note(self, line: int, label: str, message: str) -> None:
        """A problem of the scenario or step `label`."""
        self.problem(line, f"{label}: {message}")

    def keys(self, mapping: yamlfile.LineDict, allowed: Sequence[str], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.problem(
                    mapping.key_lines[key], f"{what}: unknown key {key!r}{_hint(key, allowed)}"
                )

    def script(self, doc: Any) -> list[Scenario]:
        if not isinstance(doc, yamlfile.LineDict) or "scenarios" not in doc:
            self.problem(getattr(doc, "line", 1), "a test script starts with `scenarios:`, a list")
            return []
        self.keys(doc, _SCRIPT_KEYS, "script")
        lang = self.language(doc, "lang", "script")
        items = doc["scenarios"]
        if not isinstance(items, yamlfile.LineList) or not items:
            self.problem(doc.key_lines["scenarios"], "`scenarios:` must be a list of scenarios")
            return []
        out: list[Scenario] = []
        names: dict[str, int] = {}
        for item, line in zip(items, items.item_lines, strict=True):
            scenario = self.scenario(item, line, lang)
            if scenario is None:
                continue
            first = names.setdefault(scenario.name, line)
            if first != line:
                self.note(
                    line,
                    f"scenario {scenario.name!r}",
                    f"already on line {first}: give each its own name",
                )
            out.append(scenario)
        return out

    def language(self, mapping: yamlfile.LineDict, key: str, what: str) -> str | None:
        value = mapping.get(key)
        if value is not None and (not isinstance(value, str) or not value.isalpha()):
            self.note(mapping.key_lines[key], what, f"`{key}` is a language code, fr or en")
            return None
        return value

    def scenario(self, item: Any, line: int, lang: str | None) -> Scenario | None:
        if not isinstance(item, yamlfile.LineDict):
            self.problem(line, "a scenario is a mapping with `name:` and `steps:`")
            return None
        self.keys(item, _SCENARIO_KEYS, "scenario")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem(line, "a scenario needs a `name:`, saying what it shows")
            name = f"(unnamed, line {line})"
        label = f"scenario {name!r}"
        people = self.people(item, label)
        start_at = self.moment(item, label)
        steps = item.get("steps")
        if not isinstance(steps, yamlfile.LineList) or not steps:
            self.problem(
                item.key_lines.get("steps", line), f"{label}: `steps:` must be a list of steps"
            )
            steps = yamlfile.LineList()
            steps.item_lines = []
        known = {p.name.casefold(): p.name for p in people}
        read = [
            self.step(step, step_line, number, name, known, people[0].name)
            for number, (step, step_line) in enumerate(zip(steps, steps.item_lines, strict=True), 1)
        ]
        lang = self.language(item, "lang", label) or lang
        return Scenario(name, self.file, line, lang, people, start_at, tuple(s for s in read if s))

    def people(self, item: yamlfile.LineDict, label: str) -> tuple[Someone, ...]:
        default = (Someone(DEFAULT_PERSON, DEFAULT_FIRST_NAME, None, item.line),)
        value = item.get("people")
        if value is None:
            return default
        line = item.key_lines["people"]
        if not isinstance(value, yamlfile.LineList) or not value:
            self.note(line, label, "`people:` is a list of names, e.g. [anna, zoe]")
            return default
        out: list[Someone] = []
        for entry, at in zip(value, value.item_lines, strict=True):
            person = self.person(entry, at, label)
            if person is None:
                continue
            if any(p.name.casefold() == person.name.casefold() for p in out):
                self.note(at, label, f"{person.name!r} is named twice in `people:`")
                continue
            out.append(person)
        return tuple(out) or default

    def person(self, entry: Any, line: int, label: str) -> Someone | None:
        if isinstance(entry, yamlfile.LineDict):
            self.keys(entry, _PERSON_KEYS, f"{label}, person")
            lang = self.language(entry, "lang", label)
            name, first = entry.get("name"), entry.get("first_name")
        else:
            name, first, lang = entry, None, None
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            self.note(line, label, "a person is a name (anna) or {name: anna, lang: en}")
            return None
        if first is not None and (not isinstance(first, str) or not first.strip()):
            self.note(line, label, f"`first_name` of {name!r} must be a name")
            first = None
        return Someone(name, first or name[:1].upper() + name[1:], lang, line)

    def moment(self, item: yamlfile.LineDict, label: str) -> datetime:
        value = item.get("start_at")
        if value is None:
            return DEFAULT_START
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.note(
                item.key_lines["start_at"],
                label,
                f"start_at {value!r} is not a moment: write 2026-01-05 10:00 (UTC) or with its offset, 2026-01-05 10:00+01:00",
            )
            return DEFAULT_START
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def step(
        self, item: Any, line: int, number: int, scenario: str, known: dict[str, str], first: str
    ) -> Step | None:
        label = f"scenario {scenario!r}, step {number}"
        if not isinstance(item, yamlfile.LineDict):
            self.note(line, label, f"a step is a mapping such as `say: bonjour` ({_kinds()})")
            return None
        for key in item:
            if key not in (*STEP_KINDS, "as"):
                self.note(
                    item.key_lines[key], label, f"unknown step {key!r}{_hint(key, STEP_KINDS)}"
                )
        kinds = [k for k in item if k in STEP_KINDS]
        if len(kinds) != 1:
            what = "no action" if not kinds else f"{' and '.join(kinds)} together"
            if kinds or all(k in (*STEP_KINDS, "as") for k in item):
                self.note(line, label, f"{what}: a step does exactly one thing ({_kinds()})")
            return None
        kind = kinds[0]
        value = item[kind]
        where = Where(self.file, line, scenario, number, written(kind, value))
        who = self.who(item, line, label, known, first)
        if kind == "wait":
            if "as" in item:
                self.note(
                    item.key_lines["as"], label, "`wait` moves everyone's clock: it takes no `as:`"
                )
            return self.wait(value, where, label)
        if kind == "expect":
            if isinstance(value, yamlfile.LineDict) and "as" in value:
                who = self.who(value, line, label, known, who)
            return self.expect(value, where, label, who)
        if kind == "pin":
            return self.pin(value, where, label, who)
        return self.act(kind, value, where, label, who, known)

    def who(
        self, item: yamlfile.LineDict, line: int, label: str, known: dict[str, str], default: str
    ) -> str:
        if "as" not in item:
            return default
        name = item["as"]
        if isinstance(name, str) and name.casefold() in known:
            return known[name.casefold()]
        self.problem(
            item.key_lines.get("as", line),
            f"{label}: `as: {name}` names nobody of `people:` ({', '.join(known.values())})",
        )
        return default

    def wait(self, value: Any, where: Where, label: str) -> Wait | None:
        if not isinstance(value, str):
            self.note(where.line, label, "`wait` takes a duration with its unit: 30m, 3h, 2d, 1w")
            return None
        try:
            return Wait(parse_duration(value), where)
        except ValueError as exc:
            self.note(where.line, label, str(exc))
            return None

    def act(
        self, kind: str, value: Any, where: Where, label: str, who: str, known: dict[str, str]
    ) -> Act | None:
        if kind == "start":
            if value is None:
                return Act(kind, who, "", where)
            if isinstance(value, yamlfile.LineDict):
                source = value.get("invite_from")
                if set(value) != {"invite_from"} or not isinstance(source, str):
                    self.note(where.line, label, "`start` takes a payload, or {invite_from: NAME}")
                    return None
                if source.casefold() not in known or known[source.casefold()] == who:
                    self.note(
                        where.line,
                        label,
                        f"invite_from {source!r} must name another person of `people:`",
                    )
                    return None
                return Act(kind, who, "", where, known[source.casefold()])
        if isinstance(value, bool):
            self.note(where.line, label, f"`{kind}: {value}`: {BOOLEAN_WORDS}")
            return None
        if kind.startswith("tap") and isinstance(value, int):
            if value >= 1:
                return Act(kind, who, value, where)
            self.note(where.line, label, "buttons are numbered from 1, as the chat shows them")
            return None
        if isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str) or (kind != "start" and not value.strip()):
            self.note(where.line, label, f"`{kind}` needs {ARGUMENTS[kind]}")
            return None
        if kind == "command" and not value.startswith("/"):
            self.note(where.line, label, "a command starts with /, e.g. `command: /progress`")
            return None
        if kind == "send" and value not in MEDIA:
            self.note(where.line, label, f"`send` is one of {', '.join(MEDIA)}")
            return None
        return Act(kind, who, value, where)


def _kinds() -> str:
    return ", ".join(STEP_KINDS)


def _hint(key: object, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(allowed)}"


def load_checked_scripts(paths: Sequence[Path], dialogs: DialogSet) -> list[Scenario]:
    """Read the scripts and check them against the dialogs: ScriptError lists every
    problem of every file, before anything runs."""
    scenarios = load_scripts(paths, shown_names(paths))
    problems = check_against(scenarios, dialogs)
    if problems:
        raise ScriptError(problems)
    return scenarios

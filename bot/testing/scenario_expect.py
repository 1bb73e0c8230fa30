"""A script's checks on what the bot stored and the variants it shows: reading an
`expect:` mapping and a `pin:` step (mixed into the script reader, `scenario_parse`), and
what a person's stored state contradicts of an `expect` (`stored`, for `scenario_run`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.core import variants
from bot.core.model import Scalar
from bot.core.state import UserState
from bot.dialogs import yamlfile
from bot.errors import Problem
from bot.testing.scenarios import EXPECT_KEYS, Expect, Pin, Where

TEXT_KEYS = ("text", "no_text", "button", "no_button", "file", "stage_done", "stage_not_done")
BOOLEAN_WORDS = "YAML reads yes, no, on, off, true and false unquoted as true/false: quote it"


class ExpectReader:
    """What the script reader knows how to read in an `expect:` and a `pin:`."""

    problems: list[Problem]

    if TYPE_CHECKING:  # the script reader's own, declared for the type checker

        def note(self, line: int, label: str, message: str) -> None: ...

        def keys(self, mapping: yamlfile.LineDict, allowed: Sequence[str], what: str) -> None: ...

    def expect(self, value: Any, where: Where, label: str, who: str) -> Expect | None:
        if not isinstance(value, yamlfile.LineDict) or not (set(value) - {"as"}):
            self.note(
                where.line, label, f"`expect` is a mapping of checks: {', '.join(EXPECT_KEYS)}"
            )
            return None
        self.keys(value, (*EXPECT_KEYS, "as"), f"{label}, expect")
        wrong = len(self.problems)

        def line(key: str) -> int:
            return int(value.key_lines[key])

        found: dict[str, Any] = {}
        for key in TEXT_KEYS:
            if key in value:
                found[key] = self.fragments(value[key], line(key), f"{label}, {key}")
        if "buttons" in value:
            labels = value["buttons"]
            if not isinstance(labels, list) or not all(isinstance(b, str) for b in labels):
                self.note(
                    line("buttons"),
                    label,
                    "`buttons` is the list of labels, in order ([] for none)",
                )
            else:
                found["buttons"] = tuple(labels)
        for key in ("no_message", "nudge"):
            if key in value:
                if not isinstance(value[key], bool):
                    self.note(line(key), label, f"`{key}` is true or false")
                found[key] = value[key]
        if value.get("no_message") is True and (
            {"text", "file"} & set(value) or value.get("nudge") is True
        ):
            self.note(where.line, label, "`no_message: true` contradicts the other message checks")
        if "var" in value:
            found["var"] = self.variables(value["var"], line("var"), label)
        if "variant" in value:
            found["variant"] = self.arms(value["variant"], line("variant"), label, "variant")
        if "at" in value:
            at = value["at"]
            if not isinstance(at, str) or not at or at.count(".") > 1:
                self.note(line("at"), label, "`at` is flow.node, or a flow")
            found["at"] = at
        if len(self.problems) > wrong:
            return None
        return Expect(who, where, **found)

    def fragments(self, value: Any, line: int, label: str) -> tuple[str, ...]:
        values = value if isinstance(value, list) else [value]
        if not values or any(
            isinstance(v, bool) or not isinstance(v, str | int | float) for v in values
        ):
            self.note(line, label, f"a text, or a list of texts ({BOOLEAN_WORDS})")
            return ()
        out = tuple(str(v) for v in values)
        if any(not v.strip() for v in out):
            self.note(line, label, "an empty text would be found everywhere")
        return out

    def variables(self, value: Any, line: int, label: str) -> tuple[tuple[str, Scalar | None], ...]:
        if not isinstance(value, dict) or not value:
            self.note(line, label, "`var` is a mapping, e.g. {interest: family}")
            return ()
        for name, wanted in value.items():
            if not isinstance(name, str) or isinstance(wanted, list | dict):
                self.note(line, label, f"var {name!r}: a name and one value (null: not set)")
        return tuple(value.items())

    def arms(self, value: Any, line: int, label: str, key: str) -> tuple[tuple[str, str], ...]:
        """`{experiment: variant, …}`, as `pin:` and `expect: {variant: …}` write it (the
        names are checked against the dialogs by `check_against`)."""
        shape = f"`{key}` is a mapping of experiment to variant, e.g. {{menu_wording: short}}"
        if not isinstance(value, dict) or not value:
            self.note(line, label, shape)
            return ()
        out = []
        for experiment, arm in value.items():
            if not isinstance(experiment, str) or not isinstance(arm, str) or not arm:
                self.note(line, label, f"{shape} ({BOOLEAN_WORDS})")
                return ()
            out.append((experiment, arm))
        return tuple(out)

    def pin(self, value: Any, where: Where, label: str, who: str) -> Pin | None:
        arms = self.arms(value, where.line, label, "pin")
        return Pin(who, arms, where) if arms else None


def stored(state: UserState | None, step: Expect, who: str) -> list[str]:
    """What the stored state contradicts of `step` (`who`: the person, or "you")."""
    if state is None:
        return [f"{who} {'have' if who == 'you' else 'has'} not talked to the bot yet"]
    wrong = [
        f"stage {s} is not done (done: {_stages(state)})"
        for s in step.stage_done
        if s not in state.completed
    ]
    wrong += [f"stage {s} is done" for s in step.stage_not_done if s in state.completed]
    for variable, wanted in step.var:
        value = state.vars.get(variable)
        if value != wanted or (
            wanted is not None and type(value) is not type(wanted) and not _numbers(value, wanted)
        ):
            now = "not set" if value is None else f"{value!r}"
            wrong.append(
                f"var {variable} is {now}, not {'unset' if wanted is None else repr(wanted)}"
            )
    for experiment, arm in step.variant:
        seen = state.vars.get(variants.kept_as(experiment))
        if seen != arm:
            has = f"{'have' if who == 'you' else 'has'} " + (
                "no variant yet" if seen is None else f"variant {seen!r}"
            )
            wrong.append(f"experiment {experiment}: {who} {has}, not {arm!r}")
    if step.at is not None:
        here = f"{state.flow}.{state.node}"
        if (here if "." in step.at else str(state.flow)) != step.at:
            wrong.append(f"{who} {'are' if who == 'you' else 'is'} at {here}, not {step.at}")
    return wrong


def _stages(state: UserState) -> str:
    return ", ".join(sorted(state.completed)) or "none"


def _numbers(value: object, wanted: object) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in (value, wanted))

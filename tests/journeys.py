"""Find a button path through a dialog set with the pure engine (used by journey tests)."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from bot.core.dialogset import DialogSet
from bot.core.engine import step
from bot.core.events import Press, Send, Start
from bot.core.state import UserState, new_state
from bot.core.turn import progress

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_VARIABLE = re.compile(r"\bvars\.([a-z][a-z0-9_]*)")


def _conditions(dialogs: DialogSet) -> tuple[str, ...]:
    """Every button's `when` and every `goto` arm's `if`: what decides which way a person
    can go (the rest of the variables only change what is said)."""
    found = {
        condition
        for flow in dialogs.flows.values()
        for node in flow.nodes.values()
        for condition in [*(b.when for b in node.buttons), *(a.condition for a in node.goto)]
        if condition
    }
    return tuple(sorted(found))


class _Keys:
    """Two states where every condition comes out the same lead the same ways: one is
    enough (keying on every variable multiplied the states by each personal answer).
    The conditions are evaluated once per value of the variables they read."""

    def __init__(self, dialogs: DialogSet) -> None:
        self.dialogs, self.conditions = dialogs, _conditions(dialogs)
        self.read = {name for c in self.conditions for name in _VARIABLE.findall(c)}
        self.truths: dict[tuple[object, ...], tuple[bool, ...]] = {}

    def __call__(self, state: UserState) -> tuple[object, ...]:
        read = tuple(sorted((k, v) for k, v in state.vars.items() if k in self.read))
        facts = (read, state.milestones, state.completed)
        truths = self.truths.get(facts)
        if truths is None:
            variables: dict[str, object] = dict.fromkeys(self.dialogs.variables)
            variables.update(state.vars)
            context = {
                "user": {"first_name": state.first_name, "lang": state.lang},
                "vars": variables,
                "progress": progress(self.dialogs, state),
            }
            truths = tuple(self.dialogs.renderer.test(c, context) for c in self.conditions)
            self.truths[facts] = truths
        return (state.flow, state.node, truths, state.completed, state.pending)


def _keyboard(effects: tuple[object, ...]) -> tuple[object, ...]:
    """The buttons of the latest message that has some (what the person can press)."""
    shown = [e for e in effects if isinstance(e, Send) and e.buttons]
    return shown[-1].buttons if shown else ()


def _place(state: UserState) -> tuple[object, ...]:
    """Where a person is, whatever they answered on the way (the coarse search's key)."""
    return (state.flow, state.node, state.completed, state.pending)


def path_to_complete(
    dialogs: DialogSet, lang: str, stages: frozenset[str], limit: int = 200_000
) -> list[str]:
    """Button labels (in `lang`) leading from /start to having completed `stages`.

    A first search visits each place once, whatever was answered on the way: it is quick
    and almost always finds a path (every step is played by the engine, so a path it finds
    is real). Only if a condition hides the way does the full search, keyed by the
    outcome of every condition, run."""
    for key_of in (_place, _Keys(dialogs)):
        path = _search(dialogs, lang, stages, limit, key_of)
        if path is not None:
            return path
    raise AssertionError(f"no button path completes {sorted(stages)} in {lang}")


def _search(
    dialogs: DialogSet,
    lang: str,
    stages: frozenset[str],
    limit: int,
    key_of: Callable[[UserState], tuple[object, ...]],
) -> list[str] | None:
    first, effects = step(dialogs, new_state(1, lang, NOW, "Zoé"), Start(), NOW)
    start_buttons = _keyboard(effects)
    queue: deque[tuple[UserState, tuple[object, ...], list[str]]] = deque(
        [(first, start_buttons, [])]
    )
    seen = {key_of(first)}
    # flows of no stage but the first (the weekly programme) complete nothing: not entered
    aside = {f.id for f in dialogs.flows.values() if f.stage is None and f.id != first.flow}
    while queue and limit:
        state, buttons, labels = queue.popleft()
        for button in buttons:
            limit -= 1
            after, effects = step(dialogs, state, Press(button.data), NOW)  # type: ignore[attr-defined]
            path = [*labels, button.label]  # type: ignore[attr-defined]
            if stages <= after.completed:
                return path
            key = key_of(after)
            if key in seen or after.flow in aside:
                continue
            seen.add(key)
            shown = [e for e in effects if isinstance(e, Send)]
            queue.append((after, shown[-1].buttons if shown else (), path))
    return None

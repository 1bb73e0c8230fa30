"""Find a button path through a dialog set with the pure engine (used by journey tests)."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime

from bot.core.dialogset import DialogSet
from bot.core.engine import step
from bot.core.events import Press, Send, Start
from bot.core.state import UserState, new_state

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _key(state: UserState) -> tuple[object, ...]:
    return (state.flow, state.node, tuple(sorted(state.vars.items())), state.completed)


def _keyboard(effects: tuple[object, ...]) -> tuple[object, ...]:
    """The buttons of the latest message that has some (what the person can press)."""
    shown = [e for e in effects if isinstance(e, Send) and e.buttons]
    return shown[-1].buttons if shown else ()


def path_to_complete(
    dialogs: DialogSet, lang: str, stages: frozenset[str], limit: int = 200_000
) -> list[str]:
    """Button labels (in `lang`) leading from /start to having completed `stages`."""
    first, effects = step(dialogs, new_state(1, lang, NOW, "Zoé"), Start(), NOW)
    start_buttons = _keyboard(effects)
    queue: deque[tuple[UserState, tuple[object, ...], list[str]]] = deque(
        [(first, start_buttons, [])]
    )
    seen = {_key(first)}
    while queue and limit:
        state, buttons, labels = queue.popleft()
        for button in buttons:
            limit -= 1
            after, effects = step(dialogs, state, Press(button.data), NOW)  # type: ignore[attr-defined]
            path = [*labels, button.label]  # type: ignore[attr-defined]
            if stages <= after.completed:
                return path
            if _key(after) in seen:
                continue
            seen.add(_key(after))
            shown = [e for e in effects if isinstance(e, Send)]
            queue.append((after, shown[-1].buttons if shown else (), path))
    raise AssertionError(f"no button path completes {sorted(stages)} in {lang}")

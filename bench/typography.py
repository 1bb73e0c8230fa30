"""(i) What French typography costs a rendered message, against rendering alone, measured
in the same run: every French node text of the bundled dialogs rendered as it is shown to
someone (1) without typesetting, (2) typeset every time (the first time a text is seen),
(3) typeset through the module's memo (most messages are the same for everyone).
Target: the memo makes typesetting at most a few per cent of a render (ratio <= 1.10).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.common import LANGS, ROOT, clock
from bot.app.bootstrap import standard_features
from bot.core import typography
from bot.core.dialogset import DialogSet
from bot.core.render import Renderer, RenderError
from bot.core.state import new_state
from bot.core.turn import progress
from bot.dialogs.load import load_dialogs

ROUNDS = 10
REPEATS = 15


def texts_and_context(dialogs: DialogSet) -> tuple[list[str], dict[str, Any]]:
    state = new_state(1, "fr", datetime(2026, 3, 1, tzinfo=UTC), "Odette")
    context: dict[str, Any] = {
        # a language the typography does not know: the baseline renders and stops there
        "user": {"first_name": "Odette", "lang": "xx"},
        "vars": dict.fromkeys(dialogs.variables),
        "progress": progress(dialogs, state),
    }
    renderer = Renderer()
    sources = []
    for flow in dialogs.flows.values():
        for node in flow.nodes.values():
            try:  # a few texts need variables set on the way (a count, a name)
                renderer.render(node.say["fr"], context)
            except (RenderError, TypeError):
                continue
            sources.append(node.say["fr"])
    return sources, context


def timer(sources: list[str], context: dict[str, Any], mode: str) -> Callable[[], float]:
    """One round over every text in `mode`; returns seconds per text."""
    renderer = Renderer()
    for source in sources:  # compiled once, as the running bot has them
        renderer.render(source, context)
    typeset = {"plain": None, "fresh": typography._typeset, "memo": typography.typeset}[mode]

    def run() -> float:
        start = clock()
        for _ in range(ROUNDS):
            for source in sources:
                text = renderer.render(source, context)
                if typeset is not None:
                    typeset(text)
        return (clock() - start) / (ROUNDS * len(sources))

    return run


def main() -> None:
    dialogs = load_dialogs(ROOT / "dialogs", LANGS, "welcome", standard_features())
    sources, context = texts_and_context(dialogs)
    modes = ("plain", "fresh", "memo")
    runs = {mode: timer(sources, context, mode) for mode in modes}
    # the three interleaved, round after round: the machine's noise falls on all of them
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    for _ in range(REPEATS):
        for mode in modes:
            times[mode].append(runs[mode]())
    plain, fresh, memo = (statistics.median(times[mode]) for mode in modes)
    print(f"(i) typography, {len(sources)} French node texts of the bundled dialogs (empty vars)")
    print(f"  render alone            {plain * 1e6:8.1f} µs per text")
    print(f"  render + typeset        {fresh * 1e6:8.1f} µs  ratio {fresh / plain:.2f}")
    print(f"  render + typeset (memo) {memo * 1e6:8.1f} µs  ratio {memo / plain:.2f}")
    verdict = "ok" if memo / plain <= 1.10 else "MISSED"
    print(f"  target: memo ratio <= 1.10 ... {verdict}")


if __name__ == "__main__":
    main()

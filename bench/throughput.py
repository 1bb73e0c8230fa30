"""(a) Events per second through the harness (engine + render + SQLite commit), against the
engine alone on the same events, for 1,000 people x 20 events."""

from __future__ import annotations

import asyncio
import random
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.common import LANGS, ROOT, clock
from bot.app.bootstrap import standard_features
from bot.core.dialogset import DialogSet
from bot.core.engine import step
from bot.core.events import Event, Press, Send, Text, parse_text
from bot.core.state import UserState, new_state
from bot.dialogs.load import load_dialogs
from bot.runtime.conversation import Conversations, Person
from bot.store import open_store

USERS, EVENTS = 1000, 20
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def script(dialogs: DialogSet, seed: int) -> list[list[Event]]:
    """Per person, 20 events a real person could send: /start, presses, some text."""
    rng = random.Random(seed)
    scripts = []
    for uid in range(USERS):
        state: UserState = new_state(uid, LANGS[uid % 2], NOW, f"P{uid}")
        events: list[Event] = [parse_text("/start")]
        state, effects = step(dialogs, state, events[0], NOW)
        buttons = next(e.buttons for e in reversed(effects) if isinstance(e, Send) and e.buttons)
        while len(events) < EVENTS:
            roll = rng.random()
            if roll < 0.1:
                event: Event = Text(
                    rng.choice(["je n'ai pas le temps", "bof", "privacy?", "hello"])
                )
            elif roll < 0.15:
                event = parse_text(rng.choice(["/progress", "/help"]))
            elif buttons:
                event = Press(rng.choice(buttons).data)
            else:
                event = parse_text("/restart")
            events.append(event)
            state, effects = step(dialogs, state, event, NOW)
            sent = [e for e in effects if isinstance(e, Send)]
            if sent and sent[-1].buttons:
                buttons = sent[-1].buttons
        scripts.append(events)
    return scripts


def engine_only(dialogs: DialogSet, scripts: list[list[Event]]) -> float:
    start = clock()
    for uid, events in enumerate(scripts):
        state = new_state(uid, LANGS[uid % 2], NOW, f"P{uid}")
        for event in events:
            state, _ = step(dialogs, state, event, NOW)
    return clock() - start


async def through_store(dialogs: DialogSet, scripts: list[list[Event]], folder: Path) -> float:
    store = await open_store(folder / "bench.db")
    conversations = Conversations(dialogs, store, "fr")
    start = clock()

    async def person(uid: int, events: list[Event]) -> None:
        who = Person(uid, f"P{uid}", LANGS[uid % 2])
        for event in events:
            await conversations.handle(who, event, NOW)

    # many people at once, each person's events in order
    await asyncio.gather(*(person(uid, events) for uid, events in enumerate(scripts)))
    elapsed = clock() - start
    await store.close()
    return elapsed


def run() -> dict[str, float]:
    dialogs = load_dialogs(ROOT / "dialogs", LANGS, "welcome", standard_features())
    scripts = script(dialogs, 1)
    total = USERS * EVENTS
    engine_s = min(engine_only(dialogs, scripts) for _ in range(3))
    with tempfile.TemporaryDirectory() as tmp:
        store_s = asyncio.run(through_store(dialogs, scripts, Path(tmp)))
    figures = {
        "engine_events_per_s": total / engine_s,
        "harness_events_per_s": total / store_s,
    }
    figures["ratio_harness_to_engine"] = (
        figures["harness_events_per_s"] / figures["engine_events_per_s"]
    )
    print(f"(a) {USERS} people x {EVENTS} events = {total} events")
    print(f"    engine only            : {figures['engine_events_per_s']:10.0f} events/s")
    print(f"    harness (engine+SQLite): {figures['harness_events_per_s']:10.0f} events/s")
    print(f"    ratio harness/engine   : {figures['ratio_harness_to_engine']:10.3f}")
    return figures


if __name__ == "__main__":
    run()

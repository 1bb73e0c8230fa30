"""(k) Hot reload: what a reload costs, and what it does to the people being served.

Three figures, each against a baseline of the same run:
- a reload of the bundled dialogs (read, check, compare, swap, record) against loading
  them at start-up (`load_dialogs`): the reload should cost about a load, not more;
- the turns served per second by the harness while reloads run back to back, against the
  same turns with no reload: the check runs in a thread, but it holds the GIL most of
  the time, so this says how much a reload slows people down while it lasts;
- the slowest turn (p99) during reloads, against p99 without.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
from pathlib import Path

from bench.common import LANGS, ROOT
from bench.common import clock as perf
from bot.app.bootstrap import standard_features
from bot.app.config import load_config
from bot.app.reload import Reloader
from bot.dialogs.load import load_dialogs
from bot.runtime.conversation import Conversations, Person
from bot.store import open_store
from bot.testing import ChatHarness, FakeClock

PEOPLE, ROUNDS = 40, 12


async def turns(conversations: Conversations, fake: FakeClock, first_id: int) -> list[float]:
    """Each person: /start, then typed text the bot answers; every turn's duration (s)."""
    durations = []
    people = [
        ChatHarness(conversations, Person(first_id + i, f"P{i}", "fr"), fake) for i in range(PEOPLE)
    ]
    for round_ in range(ROUNDS):
        for h in people:
            began = perf()
            await h.send("/start" if round_ == 0 else "je ne sais pas trop")
            durations.append(perf() - began)
    return durations


async def measure() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "dialogs"
        shutil.copytree(ROOT / "dialogs", folder)
        config = load_config({"bot": {"dialogs": str(folder)}}, {})
        features = standard_features()
        began = perf()
        dialogs = load_dialogs(folder, LANGS, "welcome", features)
        load_ms = (perf() - began) * 1000
        store = await open_store(Path(tmp) / "reload.db")
        fake = FakeClock()
        conversations = Conversations(dialogs, store, "fr")
        reloader = Reloader(config, folder, conversations, store, features, fake.now)
        await reloader.started()
        welcome = folder / "welcome.yaml"
        original = welcome.read_text(encoding="utf-8")

        reload_ms = []
        for i in range(5):  # a real change each time: a comment makes no new version
            welcome.write_text(original.replace("Bonjour", f"Bonjour{'!' * (i % 2 + 1)}", 1))
            began = perf()
            outcome = await reloader.reload("bench")
            reload_ms.append((perf() - began) * 1000)
            assert outcome.result == "done", outcome

        quiet = await turns(conversations, fake, 1_000)
        stop = asyncio.Event()

        async def keep_reloading() -> int:
            n = 0
            while not stop.is_set():
                welcome.write_text(original.replace("Bonjour", f"Bonjour{'!' * (n % 2)}", 1))
                await reloader.reload("bench")
                n += 1
            return n

        reloading = asyncio.create_task(keep_reloading())
        await asyncio.sleep(0)
        busy = await turns(conversations, fake, 100_000)
        stop.set()
        reloads_during = await reloading
        await store.close()
    q99 = statistics.quantiles(quiet, n=100)[98]
    b99 = statistics.quantiles(busy, n=100)[98]
    return {
        "load_ms": load_ms,
        "reload_ms": statistics.median(reload_ms),
        "quiet_tps": len(quiet) / sum(quiet),
        "busy_tps": len(busy) / sum(busy),
        "quiet_p99_ms": q99 * 1000,
        "busy_p99_ms": b99 * 1000,
        "reloads_during": float(reloads_during),
    }


def main() -> None:
    r = asyncio.run(measure())
    print("(k) hot reload of the bundled dialogs")
    print(
        f"    reload {r['reload_ms']:.0f} ms vs start-up load {r['load_ms']:.0f} ms: "
        f"ratio {r['reload_ms'] / r['load_ms']:.2f} (target <= 1.5)"
    )
    print(
        f"    turns/s during {r['reloads_during']:.0f} back-to-back reloads {r['busy_tps']:.0f} vs "
        f"{r['quiet_tps']:.0f} without: ratio {r['busy_tps'] / r['quiet_tps']:.2f}"
    )
    print(
        f"    p99 turn {r['busy_p99_ms']:.1f} ms during reloads vs {r['quiet_p99_ms']:.1f} ms "
        f"without: ratio {r['busy_p99_ms'] / r['quiet_p99_ms']:.2f}"
    )


if __name__ == "__main__":
    main()

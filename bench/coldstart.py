"""(c) Cold start: load and check the bundled dialogs, open the store (milliseconds)."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import LANGS, ROOT, clock

PROGRAM = """
import asyncio, sys, time
start = time.perf_counter()
from bot.app.bootstrap import standard_features
from bot.dialogs.load import load_dialogs
from bot.store import open_store
async def main():
    load_dialogs(sys.argv[1], ("fr", "en"), "welcome", standard_features())
    store = await open_store(sys.argv[2])
    await store.close()
asyncio.run(main())
print((time.perf_counter() - start) * 1000)
"""


def in_process(folder: Path) -> float:
    from bot.app.bootstrap import standard_features
    from bot.dialogs.load import load_dialogs
    from bot.store import open_store

    async def once() -> float:
        start = clock()
        load_dialogs(ROOT / "dialogs", LANGS, "welcome", standard_features())
        store = await open_store(folder / "cold.db")
        await store.close()
        return (clock() - start) * 1000

    return statistics.median(asyncio.run(once()) for _ in range(5))


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fresh = [
            float(
                subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        PROGRAM,
                        str(ROOT / "dialogs"),
                        str(folder / f"c{i}.db"),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                ).stdout
            )
            for i in range(5)
        ]
        warm = in_process(folder)
    figures = {"cold_start_ms": statistics.median(fresh), "warm_start_ms": warm}
    print("(c) start-up: load + check the bundled dialogs, open the store")
    print(f"    fresh process (imports included): {figures['cold_start_ms']:7.0f} ms (median of 5)")
    print(f"    in a warm process               : {figures['warm_start_ms']:7.0f} ms (median of 5)")
    return figures


if __name__ == "__main__":
    run()

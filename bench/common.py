"""Helpers shared by the benchmarks."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("fr", "en")


def machine() -> str:
    import os

    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}"


def best_of(runs: int, work: Callable[[], float]) -> float:
    """The median of `runs` timings (seconds) returned by `work`."""
    return statistics.median(work() for _ in range(runs))


def clock() -> float:
    return time.perf_counter()

"""Run every benchmark: `make bench` (or `python -m bench`).

Each one runs in a fresh process: a benchmark must not inherit the heap, the threads or
the garbage of the one before it (the nudge send rate lost three points that way)."""

from __future__ import annotations

import datetime
import subprocess
import sys

from bench.common import ROOT, machine

BENCHMARKS = (
    "throughput", "checker", "coldstart", "telegram", "nudges", "advocates", "understanding",
    "production", "typography", "reload", "funnel", "workers", "console",
)  # fmt: skip


def main() -> None:
    print(f"VIE Coach benchmarks, {datetime.date.today()}, {machine()}", flush=True)
    failed = []
    for name in BENCHMARKS:
        done = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT, check=False)
        if done.returncode != 0:
            failed.append(name)
    if failed:
        sys.exit(f"benchmarks that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()

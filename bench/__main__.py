"""Run every benchmark: `make bench` (or `python -m bench`)."""

from __future__ import annotations

import datetime

from bench import advocates, checker, coldstart, nudges, telegram, throughput
from bench.common import machine


def main() -> None:
    print(f"VIE Coach benchmarks, {datetime.date.today()}, {machine()}")
    throughput.run()
    checker.run()
    coldstart.run()
    telegram.run()
    nudges.run()
    advocates.run()


if __name__ == "__main__":
    main()

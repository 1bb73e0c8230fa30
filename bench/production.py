"""(h) What production readiness costs, each against a baseline measured in the same run:

1. logging through the redacting record factory vs the standard one (records/s, the
   token in one record of two, as httpx's request lines have it), and what it adds to an
   update (2.86 ms of CPU each on the Telegram path, bench/telegram.py, three log lines);
2. the outbox's insert-then-delete churn with `secure_delete = ON` vs OFF (rows/s);
3. `/healthz`'s backlog query with 100,000 messages waiting vs none (milliseconds);
4. a turn counted in the metrics (three counters and a histogram) vs one turn's time.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.common import best_of, clock

TOKEN = "7000000009:AAE-bench-token-0123456789abcdefghij"
RECORDS = 50_000


def logging_rate(redacting: bool) -> float:
    from bot.app.logs import Redactor

    previous = logging.getLogRecordFactory()
    if redacting:
        redactor = Redactor(previous)
        redactor.add([TOKEN, "bench-webhook-secret-0123"])
        logging.setLogRecordFactory(redactor)
    logger = logging.Logger("bench")
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    try:
        start = clock()
        for i in range(RECORDS // 2):
            logger.info('HTTP Request: POST http://api/bot%s/sendMessage "%s"', TOKEN, "200 OK")
            logger.info("update %d from user %d: Text -> %d message(s)", i, i % 977, 1)
        return RECORDS / (clock() - start)
    finally:
        logging.setLogRecordFactory(previous)


def churn_rate(folder: Path, secure: bool, rows: int = 20_000) -> float:
    """The outbox's life: a row written with its turn, deleted once sent."""
    path = folder / f"churn-{secure}-{time.monotonic_ns()}.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(f"PRAGMA secure_delete = {'ON' if secure else 'OFF'}")
    db.execute(
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id INTEGER NOT NULL, "
        "kind TEXT NOT NULL, body TEXT NOT NULL, created_ms INTEGER NOT NULL)"
    )
    db.execute("CREATE INDEX outbox_by_chat ON outbox(chat_id, id)")
    body = '{"text": "' + "Voici la prochaine étape, à votre rythme. " * 6 + '"}'
    start = clock()
    for batch in range(rows // 100):
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO outbox (chat_id, kind, body, created_ms) VALUES (?, 'reply', ?, ?)",
            [(batch * 100 + i, body, 0) for i in range(100)],
        )
        db.execute("COMMIT")
        db.execute("BEGIN")
        db.execute("DELETE FROM outbox WHERE id <= (SELECT max(id) FROM outbox)")
        db.execute("COMMIT")
    elapsed = clock() - start
    db.close()
    return rows / elapsed


async def backlog_ms(folder: Path, waiting: int) -> float:
    from bot.store import open_store

    store = await open_store(folder / f"backlog-{waiting}.db")
    try:
        if waiting:
            await store.connection.executemany(
                "INSERT INTO outbox (chat_id, kind, body, created_ms) VALUES (?, 'reply', '{}', ?)",
                [(i % 5000, i) for i in range(waiting)],
            )
        await store.backlog()  # warm
        times = []
        for _ in range(20):
            start = clock()
            await store.backlog()
            times.append((clock() - start) * 1000)
        return sorted(times)[len(times) // 2]
    finally:
        await store.close()


def metrics_cost() -> tuple[float, float]:
    """Microseconds to count one turn, and a turn's own time (the harness's figure)."""
    from bot.runtime.metrics import Metrics

    m = Metrics()
    n = 100_000
    start = clock()
    for _ in range(n):
        m.update("answered", seconds=0.003)
        m.sent("reply")
    return (clock() - start) / n * 1e6, 1e6 / 1950  # harness: about 1,950 turns/s


def main() -> None:
    print("(h) production readiness: each against its baseline, same run")
    plain = best_of(3, lambda: logging_rate(False))
    redacted = best_of(3, lambda: logging_rate(True))
    extra_us = (1 / redacted - 1 / plain) * 1e6
    print(f"  log records/s: standard {plain:,.0f}, redacting {redacted:,.0f}: "
          f"ratio {redacted / plain:.2f}; {extra_us:.1f} µs more per record, "
          f"{3 * extra_us / 2860:.2%} of an update's CPU at 3 lines per update")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        off = best_of(3, lambda: churn_rate(folder, False))
        on = best_of(3, lambda: churn_rate(folder, True))
        print(f"  outbox churn rows/s: secure_delete off {off:,.0f}, on {on:,.0f}: "
              f"ratio {on / off:.2f}")  # fmt: skip
        empty = asyncio.run(backlog_ms(folder, 0))
        full = asyncio.run(backlog_ms(folder, 100_000))
        print(f"  /healthz backlog query: {empty:.2f} ms empty, {full:.2f} ms with 100,000 "
              f"waiting: ratio {full / max(empty, 1e-6):.1f}")  # fmt: skip
    counted, turn = metrics_cost()
    print(f"  metrics per turn: {counted:.1f} µs, a turn {turn:.0f} µs: "
          f"{counted / turn:.1%} of it")  # fmt: skip


if __name__ == "__main__":
    main()

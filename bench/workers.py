"""Several `vie-coach run` workers on one PostgreSQL database, each a process of its own
in webhook mode, against the Bot API emulator served on 127.0.0.1 by this process, which
also plays Telegram: each person's updates in order (the next once the one before was
accepted), many people at once, to the workers' webhooks in turn (a load balancer). The
PostgreSQL server is a throwaway one with fsync on, as in production.

(a) CPU per update of one worker on PostgreSQL vs on SQLite, same burst, median of 3
    (target <= 1.5x), the server's own CPU beside it. Each person sends on once answered:
    a deep send queue costs the sender CPU per reply (see b), blurring the store's cost.
(b) Updates/s with 1, 2 and 3 workers, the send limits out of the way, median of 3
    (target 2 workers / 1 >= 1.3); the cores each process kept busy beside it.
(c) p95 reply latency at a fixed offered load, 3 workers vs 1 (target <= 1.5x).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

from bench.common import ROOT
from bot.adapters.telegram.webhook import SECRET_HEADER
from bot.testing import pgserver
from bot.testing.botapi import BotApiEmulator, FakeUser, serve
from bot.testing.pgserver import PgServer

MINI = ROOT / "tests" / "fixtures" / "mini"
SECRET = "bench-webhook-secret-Q4w7E2r9"
# Ten messages, one reply each in the mini dialogs: the k-th reply answers the k-th
SCRIPT = ("/start", "euh", "euh", "euh", "/progress", "bof", "/help", "bof", "/progress", "bof")
CPU_PEOPLE, RUN_PEOPLE, REPEATS = 200, 200, 3
# (c): updates/s offered, about a third of what one worker takes in (b), for 15 s
RATE, PACED_PEOPLE = 100, 150
HZ = os.sysconf("SC_CLK_TCK")
LISTENING = re.compile(r"webhook mode: listening on 127\.0\.0\.1:(\d+)")
SENDER = "takes the sender role"
COMMAND = (sys.executable, "-c", "from bot.app.cli import main; main()")  # `vie-coach`
PEOPLE_IDS = itertools.count(100_000)


@dataclass
class Emulator(BotApiEmulator):
    """The emulator, noting when each reply reaches it, per chat in order."""

    times: dict[int, list[float]] = field(default_factory=dict)
    replies: int = 0

    def _sent(self, chat: int, content: dict[str, Any], reply_markup: Any) -> dict[str, Any]:
        message = super()._sent(chat, content, reply_markup)
        self.times.setdefault(chat, []).append(time.perf_counter())
        self.replies += 1
        return message

    async def all_in(self, count: int, seconds: float = 120) -> float:
        """Waits for `count` replies in all; returns when the last one came."""
        async with asyncio.timeout(seconds):
            while self.replies < count:
                await asyncio.sleep(0.01)
        return max(t[-1] for t in self.times.values())


def stat(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command's name: [0] is field 3, the state."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as file:
        return file.read().rpartition(")")[2].split()


def cpu(pid: int, reaped: bool = False) -> float:
    """CPU seconds, user + system (fields 14, 15), and if `reaped` its reaped children's."""
    return sum(int(x) for x in stat(pid)[11 : 15 if reaped else 13]) / HZ


def pg_cpu(server: PgServer) -> float:
    """The whole server: the postmaster, its live children and those gone."""
    root = server.process.pid
    total = cpu(root, reaped=True)
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError, ValueError):  # gone: in the postmaster's reaped
            if int(stat(entry)[1]) == root:
                total += cpu(int(entry))
    return total


def config(folder: Path, name: str, base_url: str, store: str) -> Path:
    (path := folder / f"{name}.toml").write_text(
        f'[bot]\ndialogs = "{MINI}"\nwatch_dialogs = false\n[store]\n{store}\n'
        f'[telegram]\nbase_url = "{base_url}"\nmode = "webhook"\n'
        f'webhook_url = "https://example.org/hook"\nwebhook_secret = "{SECRET}"\n'
        'webhook_listen = "127.0.0.1"\nwebhook_port = 0\n'
        "overall_per_second = 5000\nper_chat_per_second = 200\nper_chat_burst = 50\n"
        '[logging]\nlevel = "INFO"\n[ops]\nport = 0\n',
        encoding="utf-8",
    )
    return path


@dataclass
class Worker:
    process: asyncio.subprocess.Process
    lines: list[str]  # its output so far
    url: str = ""  # its webhook's, once it listens


@asynccontextmanager
async def worker(path: Path) -> AsyncIterator[Worker]:
    """`vie-coach run --config PATH`, its output read as it comes; stopped on leaving."""
    process = await asyncio.create_subprocess_exec(
        *COMMAND, "run", "--config", str(path),
        env={"TELEGRAM_BOT_TOKEN": "1:bench", "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    found = Worker(process, [])  # a pipe read all along: a full one would stall the worker

    async def read() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode(errors="replace")
            found.lines.append(line)
            if port := LISTENING.search(line):
                found.url = f"http://127.0.0.1:{port.group(1)}/hook"

    reader = asyncio.create_task(read())
    try:
        yield found
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 15)
        if process.returncode is None:
            process.kill()
        await process.wait()
        await reader
        if any("Traceback" in line for line in found.lines):
            print(f"    (a worker logged a traceback: {path.name})", flush=True)


@dataclass
class Fleet:
    """Running workers, and Telegram's side: posts to each webhook in turn."""

    emulator: Emulator
    running: list[Worker]
    session: aiohttp.ClientSession
    server: PgServer
    turn: itertools.count[int] = field(default_factory=itertools.count)
    refused: int = 0  # posts not answered 200, sent again to the next worker

    async def post(self, update: dict[str, Any]) -> None:
        body = json.dumps(update)
        headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
        while True:
            target = self.running[next(self.turn) % len(self.running)]
            try:
                async with self.session.post(target.url, data=body, headers=headers) as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass  # a kept-alive connection the worker closed as it was reused: again
            self.refused += 1
            await asyncio.sleep(0.02)

    def usage(self) -> list[float]:
        """[wall, the server's CPU, this process's, the machine's, each worker's...], s."""
        with open("/proc/stat", encoding="ascii") as stat:  # user ... steal, less idle, iowait
            ticks = [int(x) for x in stat.readline().split()[1:9]]
        each = [cpu(w.process.pid) for w in self.running]
        machine = (sum(ticks) - ticks[3] - ticks[4]) / HZ
        return [time.perf_counter(), pg_cpu(self.server), time.process_time(), machine, *each]

    def busy(self, before: list[float]) -> dict[str, Any]:
        """Cores busy since a `usage`: the server, this process, each worker (sender first)."""
        after = self.usage()
        used = [(a - b) / (after[0] - before[0]) for a, b in zip(after, before, strict=True)]
        sender = [any(SENDER in x for x in w.lines) for w in self.running]
        each = sorted(zip(sender, used[4:], strict=True), reverse=True)  # the sender first
        other = max(0.0, used[3] - used[1] - used[2] - sum(used[4:]))  # else on the machine
        return {"server": used[1], "bench": used[2], "other": other,
                "workers": [x for _, x in each]}  # fmt: skip


@asynccontextmanager
async def workers(count: int, store: str, folder: Path, server: PgServer) -> AsyncIterator[Fleet]:
    """`count` workers on `store`, listening, one of them sending."""
    emulator = Emulator()
    async with serve(emulator) as base_url, AsyncExitStack() as stack:
        running = [
            await stack.enter_async_context(worker(config(folder, f"w{i}", base_url, store)))
            for i in range(count)
        ]
        for _ in range(3000):
            lines = [line for w in running for line in w.lines]
            if all(w.url for w in running) and any(SENDER in x for x in lines):
                break
            if any(w.process.returncode is not None for w in running):
                raise SystemExit("".join(lines)[-3000:])
            await asyncio.sleep(0.02)
        session = await stack.enter_async_context(
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        )
        fleet = Fleet(emulator, running, session, server)
        await burst(fleet, people(50), answered=True)  # warm: imports, statements, pools
        if store.startswith("url"):  # the planner's statistics, as autovacuum's within a minute
            with psycopg.connect(store.split('"')[1], autocommit=True) as db:
                db.execute("ANALYZE")
        yield fleet


def people(count: int) -> list[FakeUser]:
    return [FakeUser(i, f"P{i}", "fr") for i in (next(PEOPLE_IDS) for _ in range(count))]


async def burst(fleet: Fleet, crowd: list[FakeUser], answered: bool = False) -> tuple[float, float]:
    """Everyone's SCRIPT, each update once the last was accepted (or `answered`)."""
    emulator = fleet.emulator
    before = emulator.replies

    async def chat(person: FakeUser) -> None:
        for text in SCRIPT:
            reply = emulator.next_message(person.id) if answered else None
            await fleet.post(emulator.user_message(person, text))
            if reply is not None:
                await asyncio.wait_for(reply, 60)

    start = time.perf_counter()
    await asyncio.gather(*(chat(p) for p in crowd))
    return start, await emulator.all_in(before + len(crowd) * len(SCRIPT))  # (first, last)


async def paced(fleet: Fleet, crowd: list[FakeUser], rate: float) -> list[float]:
    """Open loop: person p's update k offered at (k * people + p) / rate s; latencies."""
    emulator = fleet.emulator
    before = emulator.replies
    posted: dict[int, list[float]] = {p.id: [] for p in crowd}
    start = time.perf_counter()

    async def chat(index: int, person: FakeUser) -> None:
        for k, text in enumerate(SCRIPT):
            due = start + (k * len(crowd) + index) / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            posted[person.id].append(time.perf_counter())
            await fleet.post(emulator.user_message(person, text))

    await asyncio.gather(*(chat(i, p) for i, p in enumerate(crowd)))
    await emulator.all_in(before + len(crowd) * len(SCRIPT))
    if odd := sum(len(emulator.times[p.id]) != len(SCRIPT) for p in crowd):  # unmatched
        print(f"    ({odd} people did not get one reply per update)", flush=True)
    return [got - sent for p in crowd
            for sent, got in zip(posted[p.id], emulator.times[p.id], strict=False)]  # fmt: skip


async def cpu_per_update(store: str, server: PgServer, folder: Path) -> dict[str, float]:
    """(a) One worker, one burst: ms of CPU per update, the worker's and the server's."""
    updates = CPU_PEOPLE * len(SCRIPT)
    async with workers(1, store, folder, server) as fleet:
        before = fleet.usage()
        start, end = await burst(fleet, people(CPU_PEOPLE), answered=True)
        await asyncio.sleep(0.5)  # what the worker finishes after the last reply counts
        spent = [(a - b) / updates * 1000 for a, b in zip(fleet.usage(), before, strict=True)]
    return {"worker_ms": spent[4], "pg_ms": spent[1], "bench_ms": spent[2],
            "other_ms": max(0.0, spent[3] - spent[1] - spent[2] - spent[4]),
            "per_s": updates / (end - start)}  # fmt: skip


def median_run(runs: list[dict[str, float]]) -> dict[str, Any]:
    """The run of the median worker CPU, and every run's."""
    middle = sorted(runs, key=lambda r: r["worker_ms"])[len(runs) // 2]
    return {**middle, "runs": [r["worker_ms"] for r in runs]}


async def throughput(count: int, store: str, server: PgServer, folder: Path) -> dict[str, Any]:
    """(b) Updates/s of `count` workers, first POST to last reply; cores busy (median run)."""
    runs = []
    async with workers(count, store, folder, server) as fleet:
        for _ in range(REPEATS):
            before = fleet.usage()
            start, end = await burst(fleet, people(RUN_PEOPLE))
            runs.append((RUN_PEOPLE * len(SCRIPT) / (end - start), fleet.busy(before)))
    median = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    return {"runs": [r[0] for r in runs], "median": median[0], "busy": median[1],
            "refused": fleet.refused}  # fmt: skip


async def latency(count: int, store: str, server: PgServer, folder: Path) -> dict[str, Any]:
    """(c) Reply latency of `count` workers at RATE updates/s offered."""
    async with workers(count, store, folder, server) as fleet:
        before = fleet.usage()
        seconds = await paced(fleet, people(PACED_PEOPLE), RATE)
        used = fleet.busy(before)
    cut = statistics.quantiles(seconds, n=100)
    return {"p50_ms": cut[49] * 1000, "p95_ms": cut[94] * 1000, "busy": used}


async def measure(server: PgServer, folder: Path) -> dict[str, Any]:
    def pg(name: str) -> str:  # a new database
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "bench_{name}"')
        return f'url = "{server.url(f"bench_{name}")}"'

    tried = []  # in turns, each in a new process: other work here hits both alike
    for i in range(REPEATS):
        sqlite = await cpu_per_update(f'path = "{folder}/{i}.db"', server, folder)
        tried.append((sqlite, await cpu_per_update(pg(f"a{i}"), server, folder)))
    sq, on_pg = (median_run([t[k] for t in tried]) for k in (0, 1))
    f: dict[str, Any] = {"sqlite": sq, "pg": on_pg, "cpu_ratio": on_pg["worker_ms"] / sq["worker_ms"]}  # fmt: skip
    print(f"(workers a) one worker, {CPU_PEOPLE} people x {len(SCRIPT)} updates, CPU/update")
    for label, r in (("SQLite    ", sq), ("PostgreSQL", on_pg)):
        runs = " ".join(f"{x:.2f}" for x in r["runs"])
        print(f"    {label}: worker {r['worker_ms']:4.2f} ms (runs {runs})   server "
              f"{r['pg_ms']:4.2f}   this process {r['bench_ms']:4.2f}   anything else "
              f"{r['other_ms']:4.2f}   {r['per_s']:3.0f} updates/s")  # fmt: skip
    whole = (on_pg["worker_ms"] + on_pg["pg_ms"]) / sq["worker_ms"]
    print(f"    worker CPU, PG / SQLite      : {f['cpu_ratio']:6.3f}  (target <= 1.5)\n"
          f"    worker + server, PG / SQLite : {whole:6.3f}  (no target)", flush=True)  # fmt: skip

    print(f"(workers b) PostgreSQL, {RUN_PEOPLE} people x {len(SCRIPT)} updates, median of "
          f"{REPEATS}; the {os.cpu_count()} cores are shared by the workers, the server and "
          "this process (emulator, Telegram's side)")  # fmt: skip
    for n in (1, 2, 3):
        b = f[f"{n}w"] = await throughput(n, pg(f"b{n}"), server, folder)
        runs = " ".join(f"{x:3.0f}" for x in b["runs"])
        again = f", {b['refused']} posts sent again (connection closed)" if b["refused"] else ""
        print(f"    {n} worker(s): {b['median']:4.0f} updates/s (runs {runs}){again}\n"
              f"        {cores(b['busy'])}", flush=True)  # fmt: skip
    f["2w_ratio"], f["3w_ratio"] = (f[f"{n}w"]["median"] / f["1w"]["median"] for n in (2, 3))
    print(f"    2 workers / 1 : {f['2w_ratio']:6.3f}  (target >= 1.3)\n"
          f"    3 workers / 1 : {f['3w_ratio']:6.3f}")  # fmt: skip

    print(f"(workers c) PostgreSQL, {RATE} updates/s offered (open loop), {PACED_PEOPLE} "
          f"people x {len(SCRIPT)}; POST to reply")  # fmt: skip
    for n in (1, 3):
        c = f[f"lat{n}"] = await latency(n, pg(f"c{n}"), server, folder)
        print(f"    {n} worker(s): p50 {c['p50_ms']:6.1f} ms   p95 {c['p95_ms']:6.1f} ms\n"
              f"        {cores(c['busy'])}", flush=True)  # fmt: skip
    f["p95_ratio"] = f["lat3"]["p95_ms"] / f["lat1"]["p95_ms"]
    print(f"    p95, 3 workers / 1 : {f['p95_ratio']:6.3f}  (target <= 1.5)")
    return f


def cores(used: dict[str, Any]) -> str:
    each = " + ".join(f"{x:.2f}" for x in used["workers"])
    return (f"cores busy: workers {each} (the sender first), server {used['server']:.2f}, "
            f"this process {used['bench']:.2f}, anything else {used['other']:.2f}")  # fmt: skip


def table(f: dict[str, Any]) -> None:
    sq, pg, lat1, lat3 = f["sqlite"], f["pg"], f["lat1"], f["lat3"]
    b1, b2, b3 = (f[f"{n}w"]["median"] for n in (1, 2, 3))
    rows = (
        ("worker CPU/update, PG / SQLite", f["cpu_ratio"], "<= 1.5", f["cpu_ratio"] <= 1.5,
         f"{pg['worker_ms']:.2f} vs {sq['worker_ms']:.2f} ms (+ server {pg['pg_ms']:.2f} ms)"),
        ("throughput, 2 workers / 1", f["2w_ratio"], ">= 1.3", f["2w_ratio"] >= 1.3,
         f"{b2:.0f} vs {b1:.0f} updates/s"),
        ("throughput, 3 workers / 1", f["3w_ratio"], "", None, f"{b3:.0f} vs {b1:.0f} updates/s"),
        ("p95 latency, 3 workers / 1", f["p95_ratio"], "<= 1.5", f["p95_ratio"] <= 1.5,
         f"{lat3['p95_ms']:.0f} vs {lat1['p95_ms']:.0f} ms at {RATE} updates/s"),
    )  # fmt: skip
    print("(workers) summary")
    for label, value, target, met, absolute in rows:
        verdict = "" if met is None else "met" if met else "MISSED"
        print(f"    {label:31} {value:6.3f}  {target:6} {verdict:6}  {absolute}")


def run() -> dict[str, Any]:
    try:
        server = pgserver.start(durable=True)
    except pgserver.NoPostgres as exc:
        print(f"(workers) skipped: {exc}")
        return {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            figures = asyncio.run(measure(server, Path(tmp)))
    finally:
        server.stop()
    table(figures)
    return figures


if __name__ == "__main__":
    run()

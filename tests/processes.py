"""`vie-coach` in a process of its own, as an operator runs it, its output read line by
line as it comes (shared by the tests that kill it, stop it, or start it twice)."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from .conftest import TOKEN, WEBHOOK_SECRET, shows_a_secret


@asynccontextmanager
async def vie_coach(
    *args: str, token: str = TOKEN
) -> AsyncIterator[tuple[asyncio.subprocess.Process, list[str]]]:
    """`vie-coach ARGS`; yields the process and its output lines (stdout and stderr) so
    far. Stopped with SIGTERM on leaving if still running (killed after 15 s)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from bot.app.cli import main; main()", *args,
        env={"TELEGRAM_BOT_TOKEN": token, "PATH": "/usr/bin:/bin",
             "VIE_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    lines: list[str] = []

    async def read() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            lines.append(raw.decode(errors="replace"))

    reader = asyncio.create_task(read())
    try:
        yield process, lines
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()
        await reader
    # every run of the real command, whatever the test: its whole output is clean
    leaks = [line for line in lines if shows_a_secret(line)]
    assert not leaks, f"vie-coach {args[0]} printed a secret: {leaks[0][:200]!r}"


async def until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    for _ in range(int(seconds * 50)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{what}: not within {seconds} s")

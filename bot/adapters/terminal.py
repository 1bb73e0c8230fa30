"""The terminal chat: talk to the bot in a terminal or through a pipe, no token needed.

Buttons print as numbered choices; typing a number presses one, anything else is sent
as text, `/quit` leaves. It goes through ChatHarness, the same path the tests use.
"""

from __future__ import annotations

import asyncio
import codecs
import errno
import hashlib
import os
import stat
import sys
from collections.abc import Callable
from typing import TextIO

from bot.core.durations import parse_duration
from bot.core.events import valid_payload
from bot.features.advocates.invites import read_typed
from bot.runtime.conversation import Conversations, Person
from bot.testing.harness import ChatHarness, HarnessError, Line, ShiftedClock, format_line


def terminal_user_id(name: str) -> int:
    """A stable id per terminal user name; negative, so never a Telegram user id."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=6).digest()
    return -(int.from_bytes(digest, "big") + 1)


GOODBYE = "À bientôt ! / See you soon! (Your progress is saved.)"


class TypedLines:
    """The lines typed on standard input, read without blocking the event loop.

    A terminal or a pipe is read only once the loop reports it readable, so Ctrl-C
    (asyncio cancels the running task) ends the chat at once, not after the next Enter,
    and no thread is left blocked in a read for the loop to wait for at exit. What cannot
    be watched (a regular file: `< file`, /dev/null, a StringIO) never blocks, and is
    read directly.
    """

    def __init__(self, stdin: TextIO) -> None:
        self._stdin = stdin
        self._fd = descriptor(stdin)  # None: a StringIO, read through readline
        self._watch = self._fd is not None and watchable(self._fd)
        encoding = getattr(stdin, "encoding", None) or "utf-8"
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._buffer = ""
        self._ended = False

    async def next(self) -> str | None:
        """The next line, without its end of line; None once the input has ended."""
        if self._fd is None:
            raw = self._stdin.readline()
            return raw.removesuffix("\n").removesuffix("\r") if raw else None
        while "\n" not in self._buffer and not self._ended:
            data = await self._read(self._fd)
            self._buffer += self._decoder.decode(data, final=not data)
            self._ended = not data
        line, newline, self._buffer = self._buffer.partition("\n")
        return line.removesuffix("\r") if newline or line else None

    async def _read(self, fd: int) -> bytes:
        """Some bytes, b"" at the end; a terminal gives a line at a time."""
        while True:
            if self._watch:
                await self._readable(fd)
            try:
                return os.read(fd, 65536)
            except BlockingIOError:  # non-blocking (set by another program): wait again
                continue
            except OSError as exc:
                if exc.errno == errno.EIO:  # the terminal went away: the input has ended
                    return b""
                raise

    async def _readable(self, fd: int) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        try:
            loop.add_reader(fd, _wake, ready)
        except (NotImplementedError, OSError):  # this loop or this file cannot be watched
            self._watch = False
            return
        try:
            await ready
        finally:
            loop.remove_reader(fd)


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


def descriptor(stdin: TextIO) -> int | None:
    try:
        return stdin.fileno()
    except (AttributeError, OSError, ValueError):  # a StringIO, a closed stream
        return None


def watchable(fd: int) -> bool:
    """A terminal, a pipe or a socket: what may block, and what the loop can watch.
    A regular file (`< file`) never blocks, and epoll refuses it."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def show_prompt() -> None:
    sys.stdout.write("> ")
    sys.stdout.flush()


async def chat(
    conversations: Conversations,
    name: str,
    language_code: str | None,
    stdin: TextIO = sys.stdin,
    write: Callable[[str], None] = print,
    start: str = "",
) -> None:
    """Run the chat loop until `/quit` or the end of input. `start` is an invitation
    link or payload to arrive through, as a deep link would on Telegram."""
    harness = ChatHarness(
        conversations, Person(terminal_user_id(name), name, language_code), ShiftedClock()
    )
    interactive = stdin.isatty()

    def show(start: int) -> None:
        for line in harness.transcript[start:]:
            if line.who == "bot":
                write(format_line(line))
                write("")

    write(f"VIE Coach: chatting as {name}. Type a number to press a button, /quit to leave.\n")
    mark = len(harness.transcript)
    payload = read_typed(start).payload or valid_payload(start.strip())
    await harness.send(f"/start {payload}" if payload else "/start")
    show(mark + 1)
    lines = TypedLines(stdin)
    while True:
        if interactive:
            show_prompt()
        typed = await lines.next()
        if typed is None:  # Ctrl-D, or the end of piped input
            if interactive:
                write("")  # off the prompt's line
            write(GOODBYE)
            break
        if not interactive:
            write(format_line(Line("user", typed)))
        text = typed.strip()
        if not text:
            continue
        if text.lower() in ("/quit", "/exit"):
            write(GOODBYE)
            break
        if text.lower().startswith("/advance"):
            await advance(harness, text.partition(" ")[2].strip(), write)
            continue
        mark = len(harness.transcript)
        if text.isdigit():
            try:
                await harness.press(int(text))
            except HarnessError:
                count = len(harness.keyboard)
                write(
                    f"(there is no choice [{text}]" + (f"; choose 1 to {count})" if count else ")")
                )
                write("")
                continue
        else:
            await harness.send(typed)
        show(mark + 1)


async def advance(harness: ChatHarness, amount: str, write: Callable[[str], None]) -> None:
    """`/advance 2d` (terminal only): move this chat's clock and show what would be sent."""
    try:
        delta = parse_duration(amount)
    except ValueError:
        write("(usage: /advance 30m, /advance 3h, /advance 2d or /advance 1w)")
        write("")
        return
    sent = await harness.advance(delta)
    local = harness.now().astimezone().strftime("%Y-%m-%d %H:%M")
    write(f"(clock moved forward by {amount}, now {local}; {len(sent)} reminder(s) sent)")
    write("")
    for message in sent:
        write(format_line(Line("bot", message.text, message.buttons)))
        write("")

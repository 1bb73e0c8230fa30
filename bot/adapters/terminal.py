"""The terminal chat: talk to the bot in a terminal or through a pipe, no token needed.

Buttons print as numbered choices; typing a number presses one, anything else is sent
as text, `/quit` leaves. It goes through ChatHarness, the same path the tests use.
"""

from __future__ import annotations

import hashlib
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
    while True:
        if interactive:
            try:
                typed = input("> ")
            except EOFError:
                break
        else:
            raw = stdin.readline()
            if not raw:
                break
            typed = raw.rstrip("\n")
            write(format_line(Line("user", typed)))
        text = typed.strip()
        if not text:
            continue
        if text.lower() in ("/quit", "/exit"):
            write("À bientôt ! / See you soon! (Your progress is saved.)")
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

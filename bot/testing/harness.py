"""ChatHarness: talk to the bot as a person would, through the same path as adapters.

`send()` parses typed text exactly like the Telegram and terminal adapters, `press()`
sends the callback data of a button the bot really showed, and every message is kept in
a transcript for assertions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core import variants
from bot.core.events import ButtonView, Document, Event, Press, Send, Unsupported, parse_text
from bot.core.render import to_plain
from bot.core.state import new_state
from bot.errors import VieError
from bot.runtime.conversation import Conversations, Person
from bot.runtime.dispatcher import NudgeDispatcher


class HarnessError(VieError, AssertionError):
    """A scripted step could not be played (no such button, text not found)."""


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 10, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = max(self._now, moment)


class ShiftedClock(FakeClock):
    """The real time, moved forward by /advance (the terminal chat's clock)."""

    def __init__(self) -> None:
        self._shift = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._shift

    def advance(self, delta: timedelta) -> None:
        self._shift += delta

    def set(self, moment: datetime) -> None:
        self._shift += max(timedelta(), moment - self.now())


@dataclass(frozen=True, slots=True)
class Line:
    who: str  # "bot" or "user"
    text: str
    buttons: tuple[ButtonView, ...] = ()
    document: Document | None = None  # a file the bot sent (`text` is its caption)


@dataclass
class ChatHarness:
    """One person chatting with the bot."""

    conversations: Conversations
    person: Person
    clock: FakeClock = field(default_factory=FakeClock)
    transcript: list[Line] = field(default_factory=list)
    keyboard: tuple[ButtonView, ...] = ()  # the most recent buttons shown
    # what `advance` delivered to other people (an advocate's alerts, say), by user id
    others: dict[int, list[Send]] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock.now()

    async def advance(self, delta: timedelta) -> list[Send]:
        """Let `delta` pass: every nudge that falls due meanwhile is dispatched at its time."""
        target = self.clock.now() + delta
        sent: list[Send] = []
        store = self.conversations.store
        dispatcher = NudgeDispatcher(self.conversations, store, self.clock.now)
        for _ in range(1000):  # each due time in order, as the real scheduler would
            due = await store.next_due()
            if due is None or due > target:
                break
            self.clock.set(due)
            await dispatcher.drain()
            sent.extend(await self._outbox())
        self.clock.set(target)
        return sent

    async def _outbox(self) -> list[Send]:
        """Take what the nudges put in the outbox, as the sender would: this person's
        messages are received, other people's kept in `others`."""
        outbox = self.conversations.store.outbox
        rows = await outbox.after(0)
        mine = [r.as_send() for r in rows if r.chat_id == self.person.user_id]
        for row in rows:
            if row.chat_id != self.person.user_id:
                self.others.setdefault(row.chat_id, []).append(row.as_send())
        self._received(mine)
        await outbox.sent([r.id for r in rows])
        return mine

    def _received(self, replies: list[Send]) -> None:
        for reply in replies:
            self.transcript.append(Line("bot", reply.text, reply.buttons, reply.document))
            if reply.buttons:
                self.keyboard = reply.buttons

    async def event(self, event: Event, shown: str) -> list[Send]:
        """Play one event (the adapters' path) and record both sides."""
        self.transcript.append(Line("user", shown))
        replies = await self.conversations.handle(self.person, event, self.now())
        self._received(replies)
        return replies

    async def send(self, text: str) -> list[Send]:
        """Type a message (commands included)."""
        return await self.event(parse_text(text), text)

    async def press(self, choice: str | int) -> list[Send]:
        """Press a button of the latest keyboard: by 1-based number or by (part of) its label.

        A link button opens its link outside the chat: the bot hears nothing."""
        button = self.find(choice)
        if button.url:
            self.transcript.append(Line("user", f"[{button.label}] -> {button.url}"))
            return []
        return await self.event(Press(button.data), f"[{button.label}]")

    async def pin(self, experiment: str, arm: str) -> None:
        """From now on, show this person variant `arm` of `experiment` (a `say:` with
        variants), as if the draw had given it: kept in their stored state, where every
        turn reads it. HarnessError names the experiments, or the variants, that exist."""
        conversations = self.conversations
        store, person = conversations.store, self.person
        before = await store.load(person.user_id)
        state = before or new_state(
            person.user_id,
            conversations.language_for(person.language_code),
            self.now(),
            person.first_name[:64],
        )
        try:
            after = variants.pin(state, conversations.dialogs.experiments, experiment, arm)
        except variants.UnknownArm as exc:
            raise HarnessError(str(exc)) from None
        await store.save(before, after, (), conversations.dialogs.milestone_stage)

    async def press_data(self, data: str) -> list[Send]:
        """Send raw callback data, as a stale message or a modified client could."""
        return await self.event(Press(data), f"[data:{data}]")

    async def send_unsupported(self, kind: str) -> list[Send]:
        return await self.event(Unsupported(kind), f"<{kind}>")

    def find(self, choice: str | int) -> ButtonView:
        if isinstance(choice, int):
            if 1 <= choice <= len(self.keyboard):
                return self.keyboard[choice - 1]
            raise HarnessError(f"no button [{choice}]; there are {len(self.keyboard)}")
        for exact in (True, False):
            for b in self.keyboard:
                if (b.label == choice) if exact else (choice.casefold() in b.label.casefold()):
                    return b
        raise HarnessError(f"no button {choice!r} among {[b.label for b in self.keyboard]}")

    # -- reading -------------------------------------------------------------------------
    @property
    def bot_lines(self) -> list[Line]:
        return [line for line in self.transcript if line.who == "bot"]

    @property
    def documents(self) -> list[Document]:
        """The files the bot sent, oldest first."""
        return [line.document for line in self.transcript if line.document is not None]

    @property
    def last(self) -> Line:
        lines = self.bot_lines
        if not lines:
            raise HarnessError("the bot has said nothing yet")
        return lines[-1]

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.keyboard]

    def plain(self, lines: Sequence[Line] | None = None) -> str:
        """The transcript as plain text, in the terminal chat's format."""
        return "\n".join(
            format_line(line) for line in (lines if lines is not None else self.transcript)
        )

    def expect(self, fragment: str, *, last: int = 3) -> None:
        """Assert that one of the last `last` bot messages contains `fragment` (plain text).
        Case and the kind of space do not count: the renderer puts French no-break spaces
        (before `?`, `:`…) that whoever writes the test should not have to type."""
        recent = self.bot_lines[-last:]
        wanted = loose(fragment)
        if not any(wanted in loose(to_plain(line.text)) for line in recent):
            shown = "\n---\n".join(to_plain(line.text) for line in recent)
            raise HarnessError(f"{fragment!r} not in the last {last} bot messages:\n{shown}")


_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})
# the spaces French typography puts (or that a test may type) around these marks
_AROUND_MARKS = re.compile(r"\s+(?=[;:!?»])|(?<=«)\s+")


def loose(text: str) -> str:
    """`text` as `expect` compares it: casefolded, every no-break space a plain one, and
    no space before `; : ! ? »` or after «, so that "prêt?" finds "prêt ?"."""
    return _AROUND_MARKS.sub("", text.translate(_SPACES)).casefold()


def format_line(line: Line) -> str:
    """How a transcript line looks in the terminal chat."""
    if line.who == "user":
        return f"> {line.text}"
    out = [to_plain(line.text)] if line.text or line.document is None else []
    if line.document is not None:  # its name and size, never its content
        out.append(f"📎 {line.document.name} ({file_size(len(line.document.content))})")
    out += [
        f"  [{i}] {b.label}" + (f" ({b.url})" if b.url else "")
        for i, b in enumerate(line.buttons, start=1)
    ]
    return "\n".join(out)


def file_size(size: int) -> str:
    """A size as people read it: 512 B, 2.1 kB, 3.4 MB."""
    if size < 1000:
        return f"{size} B"
    if size < 1000 * 1000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1000 / 1000:.1f} MB"
